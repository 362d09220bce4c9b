// The app's storage on the phone: drafts, the queue of finished submissions and the record
// of those sent, in IndexedDB so that closing the tab or losing power loses nothing.

const DB_NAME = "incity-collect";
const DB_VERSION = 1;
const SENT_KEPT = 200;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let opening = null;

export function openStore() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("drafts", { keyPath: "key" });
        const queue = db.createObjectStore("queue", { keyPath: "instance_id" });
        queue.createIndex("form", "form");
        const sent = db.createObjectStore("sent", { keyPath: "instance_id" });
        sent.createIndex("form", "form");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function run(storeName, mode, work) {
  const db = await openStore();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const store = transaction.objectStore(storeName);
    let result;
    Promise.resolve(work(store)).then((value) => { result = value; }, reject);
    // Resolve only once the write is durable (the transaction completed).
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const drafts = {
  get: (key) => run("drafts", "readonly", (store) => promised(store.get(key))),
  put: (draft) => run("drafts", "readwrite", (store) => promised(store.put(draft))),
  remove: (key) => run("drafts", "readwrite", (store) => promised(store.delete(key))),
};

export const queue = {
  all: (form) => run("queue", "readonly", (store) => promised(store.index("form").getAll(form))),
  put: (item) => run("queue", "readwrite", (store) => promised(store.put(item))),
  remove: (id) => run("queue", "readwrite", (store) => promised(store.delete(id))),
};

export const sent = {
  all: (form) => run("sent", "readonly", (store) => promised(store.index("form").getAll(form))),
  // Moving an item from the queue to the sent list happens in one transaction.
  record: async (item) => {
    const db = await openStore();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(["queue", "sent"], "readwrite");
      transaction.objectStore("queue").delete(item.instance_id);
      transaction.objectStore("sent").put(item);
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
    });
  },
  trim: async (form) => {
    const items = await sent.all(form);
    items.sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
    const old = items.slice(SENT_KEPT);
    if (!old.length) return;
    await run("sent", "readwrite", (store) => Promise.all(old.map(
      (item) => promised(store.delete(item.instance_id)))));
  },
};

// crypto.randomUUID needs a secure context; getRandomValues works everywhere.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// One id per browser profile, kept across sessions, so the team can see which phone is which.
export function deviceId() {
  const key = "incity-collect-device";
  let id = localStorage.getItem(key);
  if (!id) {
    id = `web:${uuid()}`;
    localStorage.setItem(key, id);
  }
  return id;
}

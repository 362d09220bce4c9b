// Sends queued submissions when there is a connection. An item leaves the queue only when
// the server answers 200 or 201 (stored, or already stored); a 422/413 moves it to "needs
// attention" with the server's messages; anything else (network, 5xx, 401, 403, 429) keeps
// it and tries again later with exponential back-off and jitter.

import { queue, sent } from "./store.js";

const FIRST_DELAY_MS = 5000;
const MAX_DELAY_MS = 10 * 60 * 1000;
const TICK_MS = 5000;
const REPORT_EVERY_MS = 60 * 1000;

export function backoff(attempts, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  // "Equal jitter": at least half the delay, so phones that lost the same mast spread out.
  return ceiling / 2 + random() * (ceiling / 2);
}

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export class Sender {
  constructor(config, deviceId, onChange) {
    this.config = config;
    this.deviceId = deviceId;
    this.onChange = onChange;
    this.running = false;
    this.again = false;
    this.lastError = "";
    this.lastReport = 0;
    this.sentTotal = 0;
  }

  start() {
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("offline", () => this.onChange());
    setInterval(() => this.kick(), TICK_MS);
    this.kick();
  }

  headers() {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (this.config.link) headers["X-Collect-Link"] = this.config.link;
    else headers["X-CSRFToken"] = cookie("csrftoken");
    return headers;
  }

  async retryNow() {
    const items = await queue.all(this.config.key);
    await Promise.all(items.filter((item) => item.status === "waiting")
      .map((item) => queue.put({ ...item, next_at: 0 })));
    this.kick();
  }

  async kick() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.flush();
    } finally {
      this.running = false;
      this.onChange();
      if (this.again) {
        this.again = false;
        this.kick();
      }
    }
  }

  async flush() {
    if (!navigator.onLine) return;
    const now = Date.now();
    const due = (await queue.all(this.config.key))
      .filter((item) => item.status === "waiting" && (item.next_at || 0) <= now)
      .sort((a, b) => (a.queued_at < b.queued_at ? -1 : 1));
    for (const item of due) {
      if (!navigator.onLine) break;
      await this.send(item);
    }
    await this.report();
  }

  async send(item) {
    let response;
    try {
      response = await fetch(this.config.submissions, {
        method: "POST",
        headers: this.headers(),
        body: JSON.stringify(item.payload),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      return this.later(item, "network", "");
    }
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = {};
    }
    if (response.status === 200 || response.status === 201) {
      this.lastError = "";
      await sent.record({
        instance_id: item.instance_id,
        form: item.form,
        queued_at: item.queued_at,
        sent_at: new Date().toISOString(),
        outcome: body.outcome || (response.status === 201 ? "created" : "duplicate"),
        withdrawal_code: body.withdrawal_code || "",
      });
      await sent.trim(this.config.key);
      return undefined;
    }
    if (response.status === 422 || response.status === 413) {
      const extra = body.extra || {};
      const problems = extra.errors || { [extra.field || "submission"]: body.message || "" };
      return queue.put({ ...item, status: "attention", problems, message: body.message || "" });
    }
    const reason = { 401: "signInAgain", 403: this.config.link ? "linkOff" : "signInAgain" }[
      response.status] || "serverBusy";
    return this.later(item, reason, body.message || `HTTP ${response.status}`);
  }

  async later(item, reason, message) {
    const attempts = (item.attempts || 0) + 1;
    this.lastError = message || reason;
    await queue.put({
      ...item,
      attempts,
      reason,
      last_error: message,
      next_at: Date.now() + backoff(attempts),
    });
  }

  // The queue's state for the team's fieldwork view; at most once a minute, best effort.
  async report() {
    if (Date.now() - this.lastReport < REPORT_EVERY_MS || !this.config.sync) return;
    this.lastReport = Date.now();
    const waiting = await queue.all(this.config.key);
    const done = await sent.all(this.config.key);
    try {
      await fetch(this.config.sync, {
        method: "POST",
        headers: this.headers(),
        credentials: "same-origin",
        body: JSON.stringify({
          device_id: this.deviceId,
          pending: waiting.length,
          sent: done.length,
          last_error: this.lastError.slice(0, 500),
        }),
      });
    } catch (error) {
      // Reports are bookkeeping; the next one carries the same numbers.
    }
  }
}

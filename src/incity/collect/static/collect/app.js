// The collection app: consent first where the form asks for it, one short page per section,
// drafts kept as the person types, finished forms queued on the phone and sent by sender.js.
// State for people is on screen; state for tests and tools is on #collect's data attributes
// (data-state, data-page, data-waiting, data-sent, data-attention, data-offline).

import * as expr from "./expr.js";
import { FormModel, INPUT_TYPES, MAP_TYPES } from "./model.js";
import { PageView, el } from "./render.js";
import { Sender } from "./sender.js";
import { deviceId, drafts, queue, sent, uuid } from "./store.js";
import { translator } from "./strings.js";

const PAGE_SIZE = 5;
const DRAFT_DELAY_MS = 300;
const METADATA = new Set(["start", "end", "today", "deviceid", "username"]);

const config = JSON.parse(document.getElementById("collect-config").textContent);
const root = document.getElementById("collect");
const main = document.getElementById("main");
const outbox = document.getElementById("outbox");
const status = document.getElementById("queue-status");
const languageSelect = document.getElementById("form-language");

const app = {
  config,
  model: null,
  runtime: null,
  runtimeMap: null,
  mapModule: null,
  t: translator(config.interfaceLanguage),
  pages: [],
  page: 0,
  view: null,
  draft: null,
  device: deviceId(),
  sender: null,
  draftTimer: null,
};
window.incityCollect = { app, expr };

const draftKey = () => `${config.key}${config.public ? ":public" : ""}`;

function setState(state) {
  root.dataset.state = state;
  root.setAttribute("aria-busy", state === "loading" ? "true" : "false");
}

function buildPages(children) {
  const pages = [];
  let run = [];
  const flush = () => {
    if (run.length) pages.push({ elements: run, title: null });
    run = [];
  };
  for (const element of children) {
    if (element.type === "group") {
      flush();
      pages.push({ elements: element.children || [], title: element });
    } else if (element.type === "repeat") {
      flush();
      pages.push({ elements: [element], title: null });
    } else if (INPUT_TYPES.has(element.type) || element.type === "note") {
      run.push(element);
      if (run.filter((item) => item.type !== "note").length >= PAGE_SIZE) flush();
    }
  }
  flush();
  return pages;
}

const pageApplies = (page) =>
  (page.title ? app.model.applies(page.title, []) : true) &&
  page.elements.some((element) => app.model.applies(element, []));

function uiLanguage() {
  const info = app.runtime.languages.find((item) => item.key === app.model.language);
  return (info && info.code) || config.interfaceLanguage;
}

function applyLanguage(key) {
  app.model.language = key;
  const info = app.runtime.languages.find((item) => item.key === key) || {};
  app.t = translator(info.code || config.interfaceLanguage);
  const dir = info.rtl ? "rtl" : "ltr";
  document.documentElement.lang = info.code || config.interfaceLanguage;
  document.documentElement.dir = dir;
  root.dir = dir;
  languageSelect.value = key;
  document.querySelector("label[for=form-language]").textContent = app.t("language");
  localStorage.setItem(`incity-collect-language:${config.key}`, key);
}

function setupLanguages() {
  const languages = app.runtime.languages;
  languageSelect.replaceChildren(...languages.map((item) =>
    el("option", { value: item.key, lang: item.code || null, text: item.name })));
  const hidden = languages.length < 2;
  languageSelect.hidden = hidden;
  document.querySelector("label[for=form-language]").hidden = hidden;
  languageSelect.addEventListener("change", () => {
    applyLanguage(languageSelect.value);
    saveDraft();
    redraw();
    updateOutbox();
  });
  const kept = localStorage.getItem(`incity-collect-language:${config.key}`);
  const start = languages.some((item) => item.key === kept) ? kept : app.runtime.default_language;
  applyLanguage(start);
}

function formShell(testid) {
  const info = app.runtime.languages.find((item) => item.key === app.model.language) || {};
  return el("form", { class: "screen", "data-testid": testid, lang: info.code || null,
    dir: info.rtl ? "rtl" : "ltr", novalidate: true });
}

function paragraphs(text) {
  return text.split(/\n+/).filter((line) => line.trim()).map((line) => el("p", { text: line }));
}

function showConsent() {
  setState("consent");
  const sheet = app.model.text(app.runtime.consent.sheet) || app.runtime.form.title;
  const form = formShell("consent");
  const heading = el("h2", { tabindex: "-1", text: app.t("consentTitle") });
  const agree = el("button", { type: "submit", class: "primary", text: app.t("consentAgree") });
  const decline = el("button", { type: "button", class: "secondary", text: app.t("consentDecline") });
  form.append(heading, el("div", { class: "sheet", "data-testid": "consent-sheet" }, ...paragraphs(sheet)),
    el("div", { class: "actions" }, agree, decline));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    beginAnswers(true);
  });
  decline.addEventListener("click", showDeclined);
  main.replaceChildren(form);
  heading.focus();
}

function showDeclined() {
  setState("declined");
  const again = el("button", { type: "button", class: "secondary", text: app.t("consentAgain") });
  again.addEventListener("click", showConsent);
  const heading = el("h2", { tabindex: "-1", text: app.t("declined") });
  main.replaceChildren(el("div", { class: "screen" }, heading, again));
  heading.focus();
}

function newDraft(consent) {
  return { key: draftKey(), instance_id: `uuid:${uuid()}`, started_at: new Date().toISOString(),
    answers: {}, page: 0, consent };
}

function beginAnswers(consent) {
  app.draft = newDraft(consent);
  app.model.answers = app.draft.answers;
  applyDefaults(app.runtime.definition.children);
  app.page = firstPage(0, 1);
  saveDraft();
  showPage(true);
}

function applyDefaults(elements) {
  for (const element of elements) {
    if (element.type === "group") applyDefaults(element.children || []);
    const text = (element.default || "").trim();
    if (!text || !INPUT_TYPES.has(element.type) || text.includes("${") || text.includes("(")) continue;
    if (app.model.repeats[element.name].length) continue;
    const number = Number(text);
    const value = ["integer", "decimal"].includes(element.type) && !Number.isNaN(number) ? number
      : element.type === "select_multiple" ? text.split(/\s+/) : text;
    app.model.set(element, [], value);
  }
}

function firstPage(from, step) {
  for (let index = from; index >= 0 && index < app.pages.length; index += step) {
    if (pageApplies(app.pages[index])) return index;
  }
  return -1;
}

function saveDraft() {
  if (!app.draft) return;
  clearTimeout(app.draftTimer);
  app.draftTimer = setTimeout(() => {
    app.draft.page = app.page;
    app.draft.language = app.model.language;
    app.draft.updated_at = new Date().toISOString();
    drafts.put(app.draft).then(() => { root.dataset.draftSaved = app.draft.updated_at; });
  }, DRAFT_DELAY_MS);
}

function redraw() {
  if (root.dataset.state === "consent") showConsent();
  else if (root.dataset.state === "form") showPage(false);
  else if (root.dataset.state === "done") showDone();
}

function onChange() {
  app.model.calculate();
  if (app.view) app.view.refresh();
  saveDraft();
}

function showPage(moveFocus, focusId = null) {
  setState("form");
  if (app.view) app.view.destroy();
  const page = app.pages[app.page];
  const view = new PageView({ ...app, onChange, onStructureChange: (id) => showPage(!id, id) });
  app.view = view;
  app.model.calculate();
  const form = formShell("respondent-form");
  const visible = app.pages.filter(pageApplies);
  const number = visible.indexOf(page) + 1;
  const heading = el("h2", { tabindex: "-1",
    text: page.title ? view.label(page.title, []) : app.runtime.form.title });
  const progress = el("p", { class: "progress", text: app.t("pageOf", { n: number, total: visible.length }) });
  const meter = el("progress", { max: visible.length, value: number, "aria-hidden": "true" });
  const summary = el("p", { class: "summary", role: "alert", hidden: true });
  const back = el("button", { type: "button", class: "secondary", text: app.t("back"),
    hidden: firstPage(app.page - 1, -1) < 0 });
  const last = firstPage(app.page + 1, 1) < 0;
  const next = el("button", { type: "submit", class: "primary", "data-testid": last ? "finish" : "next",
    text: app.t(last ? "finish" : "next") });
  form.append(progress, meter, heading, summary, view.render(page.elements, []),
    el("div", { class: "actions" }, back, next));
  back.addEventListener("click", () => go(-1));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problems = view.validate();
    if (problems.length) {
      summary.textContent = app.t("fixErrors", { n: problems.length });
      summary.hidden = false;
      view.focusFirst(problems[0]);
      return;
    }
    if (last) finish();
    else go(1);
  });
  main.replaceChildren(form);
  view.refresh();
  root.dataset.page = String(app.page);
  if (focusId) document.getElementById(focusId)?.focus();
  else if (moveFocus) heading.focus();
}

function go(step) {
  const target = firstPage(app.page + step, step);
  if (target < 0) return;
  app.page = target;
  saveDraft();
  showPage(true);
}

function fillMetadata(endedAt) {
  const values = { start: app.draft.started_at, end: endedAt, today: endedAt.slice(0, 10),
    deviceid: app.device, username: config.user };
  for (const element of app.runtime.definition.children) {
    if (METADATA.has(element.type) && values[element.type]) {
      app.model.answers[element.name] = values[element.type];
    }
  }
}

async function finish() {
  const endedAt = new Date().toISOString();
  fillMetadata(endedAt);
  const payload = {
    instance_id: app.draft.instance_id,
    answers: app.model.output(),
    language: app.model.language,
    started_at: app.draft.started_at,
    ended_at: endedAt,
    device_id: app.device,
    version: config.version,
  };
  if (app.draft.consent) payload.consent = { accepted: true };
  await queue.put({ instance_id: payload.instance_id, form: config.key, queued_at: endedAt,
    status: "waiting", attempts: 0, next_at: 0, payload });
  clearTimeout(app.draftTimer);
  await drafts.remove(draftKey());
  app.draft = null;
  if (app.view) app.view.destroy();
  app.view = null;
  showDone();
  await updateOutbox();
  app.sender.kick();
}

function startNew() {
  if (app.runtime.consent.required || config.public) showConsent();
  else beginAnswers(false);
}

function showDone() {
  setState("done");
  const heading = el("h2", { tabindex: "-1", "data-testid": "done", text: app.t("done") });
  const another = el("button", { type: "button", class: "primary", "data-testid": "another",
    text: app.t("another") });
  another.addEventListener("click", startNew);
  main.replaceChildren(el("div", { class: "screen" }, heading, another));
  heading.focus();
}

const when = (iso) => new Date(iso).toLocaleString(uiLanguage(), { dateStyle: "short", timeStyle: "short" });

async function updateOutbox() {
  const waiting = (await queue.all(config.key)).sort((a, b) => (a.queued_at < b.queued_at ? -1 : 1));
  const done = (await sent.all(config.key)).sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
  const pending = waiting.filter((item) => item.status === "waiting");
  const attention = waiting.filter((item) => item.status === "attention");
  Object.assign(root.dataset, { waiting: pending.length, sent: done.length, attention: attention.length });
  const { t } = app;
  let line = pending.length ? t("waiting", { n: pending.length }) : t("allSent");
  if (!navigator.onLine && pending.length) line = `${line}. ${t("offline")}`;
  if (attention.length) line = `${line}. ${t("attention")}: ${attention.length}`;
  if (status.textContent !== line) status.textContent = line;
  const list = el("ul", { class: "outbox-list" });
  for (const item of pending) {
    const reason = item.reason && item.reason !== "network" ? ` · ${t(item.reason)}` : "";
    const retry = item.next_at ? ` · ${t("nextTry", { time: when(new Date(item.next_at).toISOString()) })}` : "";
    list.append(el("li", { class: "waiting", text: t("queuedAt", { time: when(item.queued_at) }) + retry + reason }));
  }
  for (const item of attention) {
    const problems = el("ul", {}, ...Object.entries(item.problems || {}).map(([path, message]) =>
      el("li", { text: `${path}: ${message}` })));
    list.append(el("li", { class: "attention" },
      el("strong", { text: `${t("attention")} · ${t("queuedAt", { time: when(item.queued_at) })}` }),
      el("p", { text: t("attentionHelp") }), problems));
  }
  for (const item of done.slice(0, 20)) {
    const code = item.withdrawal_code ? el("p", { class: "code",
      text: t("withdrawalCode", { code: item.withdrawal_code.replace(/(.{4})(?=.)/g, "$1-") }) }) : null;
    list.append(el("li", { class: "sent" }, el("span", { text: t("sentAt", { time: when(item.sent_at) }) }), code));
  }
  if (!list.children.length) list.append(el("li", { text: t("nothingYet") }));
  outbox.replaceChildren(el("h2", { id: "outbox-title", text: t("outbox") }), list);
  outbox.hidden = false;
}

async function loadRuntime() {
  const response = await fetch(config.runtime, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`runtime ${response.status}`);
  const copy = response.clone();
  const runtime = await response.json();
  try {
    await (await caches.open(config.pagesCache)).put(config.runtime, copy);
  } catch (error) {
    // No Cache API (private mode): the app still works while the page stays open.
  }
  return runtime;
}

// The worker serves the app with no connection from the second visit on; this page and
// its runtime are put in its cache now, since the first visit was not served by it.
async function prepareOffline() {
  if (!("serviceWorker" in navigator)) return;
  await navigator.serviceWorker.register(config.worker, { scope: "/collect/" });
  await navigator.serviceWorker.ready;
  const cache = await caches.open(config.pagesCache);
  const kept = await cache.match(config.page, { ignoreVary: true });
  if (!kept || navigator.onLine) await cache.add(config.page);
  root.dataset.offline = "ready";
}

async function start() {
  try {
    app.runtime = await loadRuntime();
  } catch (error) {
    setState("error");
    main.replaceChildren(el("p", { class: "error", role: "alert", text: app.t("loadFailed") }));
    return;
  }
  app.model = new FormModel(app.runtime);
  app.runtimeMap = app.runtime.map;
  app.pages = buildPages(app.runtime.definition.children);
  setupLanguages();
  const usesMap = Object.values(app.model.elements).some((element) => MAP_TYPES.has(element.type));
  if (usesMap) {
    try {
      app.mapModule = await import("./map.js");
    } catch (error) {
      app.mapModule = null;
    }
  }
  app.sender = new Sender(config, app.device, () => updateOutbox());
  const draft = await drafts.get(draftKey());
  if (draft && draft.answers) {
    app.draft = draft;
    app.model.answers = draft.answers;
    if (draft.language) applyLanguage(draft.language);
    app.page = Math.max(0, Math.min(draft.page || 0, app.pages.length - 1));
    showPage(true);
    root.dataset.restored = "true";
  } else startNew();
  await updateOutbox();
  app.sender.start();
  prepareOffline().catch(() => { root.dataset.offline = "unavailable"; });
}

window.incityCollect.ready = start();

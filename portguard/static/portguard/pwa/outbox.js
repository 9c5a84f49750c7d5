// The outbox as the pages show it. With no connection, a form that writes (the screening
// sheet, registering an arrival, adding or removing a person, a departure: each marked
// data-queue) is kept on the phone instead of being lost (pwa/queue.js: IndexedDB, with
// its client keys); every page says what waits, what was sent and what the server
// refused and why. The queue is sent in order when the connection returns ("online"), on
// the next page load, or by the service worker on a Background Sync where the browser has
// it. The server stores each client key once, so an entry sent twice stores once.
import "./queue.js";
import { formatTime, localInputValue } from "./time.js";

const queue = self.portguardQueue;
export const queued = queue.queued;

const panel = document.querySelector("[data-outbox]");
const texts = panel ? panel.dataset : {};
const sentNow = [];
let justKept = false;

function text(name, fallback, values = {}) {
  let out = texts[name] || fallback;
  for (const [key, value] of Object.entries(values)) {
    out = out.replace("{" + key + "}", value);
  }
  return out;
}

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) {
    return input.value;
  }
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

// Why the server refused an entry, read from the page it answered with: the form's
// errors and messages, or else the page's own heading and text (403, 404).
function reasonOf(refused) {
  if (typeof refused === "string") {
    return refused;
  }
  const page = new DOMParser().parseFromString(refused.page || "", "text/html");
  const clean = (node) => node.textContent.replace(/\s+/g, " ").trim();
  page.querySelectorAll("[data-outbox], [data-offline-banner], header").forEach((node) => node.remove());
  let found = Array.from(page.querySelectorAll("main [role=alert], main .msg-error")).map(clean);
  if (!found.filter(Boolean).length) {
    found = Array.from(page.querySelectorAll("main h1, main h1 ~ p")).map(clean);
  }
  return [...new Set(found.filter(Boolean))].join(" ") || "HTTP " + refused.status;
}

function describe(entry) {
  if ((entry.kind || "results") === "results") {
    return text("textSheet", "{vessel}, sheet of {time}", { vessel: entry.label, time: formatTime(entry.savedAt) });
  }
  return entry.label + " (" + formatTime(entry.savedAt) + ")";
}

let flushing = null;

// Sends the queue from this page, with its CSRF token (one sender at a time, page or worker).
export function flush() {
  if (!flushing) {
    flushing = queue
      .withLock(() => queue.flush(csrfToken()))
      .then(({ sent }) => noteSent(sent))
      .catch(() => {})
      .finally(() => {
        flushing = null;
        render();
      });
  }
  return flushing;
}

function noteSent(sent) {
  if (sent.length) {
    sentNow.push(...sent);
    justKept = false;
  }
}

function line(name, content) {
  const p = document.createElement("p");
  p.dataset[name] = "";
  p.append(...content);
  return p;
}

function link(href, label) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = label;
  return a;
}

async function render() {
  if (!panel) {
    return;
  }
  const entries = await queued();
  const waiting = entries.filter((entry) => !entry.refused);
  const results = waiting.filter((entry) => (entry.kind || "results") === "results");
  const count = results.reduce((sum, entry) => sum + entry.count, 0);
  panel.replaceChildren();
  const counted = line("outboxCount", [
    text(count === 1 ? "textWaitingOne" : "textWaitingOther", "{count} results waiting", { count }),
  ]);
  counted.dataset.outboxCount = String(count);
  panel.append(counted);
  for (const entry of waiting.filter((item) => item.kind && item.kind !== "results")) {
    const row = line("outboxWaiting", [text("textWaitingEntry", "Waiting: {what}", { what: describe(entry) })]);
    row.dataset.outboxWaiting = entry.kind;
    panel.append(row);
  }
  if (justKept) {
    panel.append(line("outboxKept", [text("textKept", "Kept on this phone: sent when the connection returns.")]));
  }
  const sentResults = sentNow.filter((item) => item.kind === "results").reduce((sum, item) => sum + item.count, 0);
  if (sentResults) {
    const sent = line("outboxSent", [text("textSent", "{count} queued results sent.", { count: sentResults }) + " "]);
    sent.dataset.outboxSent = String(sentResults);
    sent.append(link(location.pathname, text("textReload", "Reload")));
    panel.append(sent);
  }
  for (const item of sentNow.filter((sent) => sent.kind !== "results")) {
    const done = line("outboxSentEntry", [text("textSentEntry", "Sent: {what}", { what: item.label }) + " "]);
    done.dataset.outboxSentEntry = item.kind;
    if (item.url) {
      done.append(link(item.url, text("textOpen", "Open")));
    }
    panel.append(done);
  }
  for (const entry of entries.filter((item) => item.refused)) {
    const row = document.createElement("div");
    row.className = "outbox-refused";
    row.setAttribute("role", "alert");
    row.dataset.outboxRefused = String(entry.id);
    const what = document.createElement("p");
    what.textContent = text("textRefused", "Refused: {what}", { what: describe(entry) }) + " — " + reasonOf(entry.refused);
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-small btn-outline";
    discard.textContent = text("textDiscard", "Discard");
    discard.addEventListener("click", () => queue.remove(entry.id).then(render));
    row.append(what);
    const form = formFor(entry);
    if (form) {
      const fix = document.createElement("button");
      fix.type = "button";
      fix.className = "btn btn-small";
      fix.textContent = text("textFix", "Fix");
      fix.addEventListener("click", () => refill(form, entry));
      row.append(fix);
    } else if (entry.page && entry.page !== location.pathname) {
      row.append(link(entry.page, text("textOpen", "Open")), " ");
    }
    row.append(discard);
    panel.append(row);
  }
  panel.hidden = entries.length === 0 && !sentNow.length;
}

// The form on this page a refused entry was made with, if it has anything to correct.
function formFor(entry) {
  const action = new URL(entry.action, location.href).href;
  return Array.from(document.querySelectorAll("form[data-queue]")).find(
    (form) =>
      form.dataset.queue === (entry.kind || "results") &&
      form.action === action &&
      form.querySelector("input:not([type=hidden]), select, textarea"),
  );
}

// Puts a refused entry back in its form, as it was filled in, for the inspector to
// correct and send again; it leaves the queue (sending the form keeps it again if
// there is still no connection). Its client keys go with it: nothing was stored.
async function refill(form, entry) {
  form.querySelectorAll("input[type=checkbox]").forEach((box) => {
    box.checked = false;
  });
  for (const [name, value] of entry.entries) {
    const field = form.elements.namedItem(name);
    if (!field || name === "csrfmiddlewaretoken") {
      continue;
    }
    if (field instanceof RadioNodeList) {
      field.value = value;
    } else if (field.type === "checkbox") {
      field.checked = true;
    } else {
      field.value = value;
    }
  }
  await queue.remove(entry.id);
  justKept = false;
  await render();
  form.scrollIntoView({ block: "start" });
  form.dispatchEvent(new Event("change", { bubbles: true }));
}

function freshKeys(form) {
  form.querySelectorAll("input[name=client_uuid], input[name^=key_]").forEach((input) => {
    input.value = crypto.randomUUID();
  });
}

function labelOf(form) {
  let label = form.dataset.queueLabel || document.title;
  const from = form.dataset.queueLabelFrom;
  const field = from ? form.querySelector(`[name="${from}"]`) : null;
  if (field && field.value.trim()) {
    label += " " + field.value.trim();
  }
  return label;
}

// Keeps a form's write on the phone; the form starts again with new keys, since what was
// kept is a write of its own.
async function keep(form) {
  const kind = form.dataset.queue;
  // A departure kept offline happened when it was entered, not when it reaches the server.
  form.querySelectorAll("input[data-now-if-empty]").forEach((input) => {
    if (!input.value) {
      input.value = localInputValue(Date.now());
    }
  });
  const entries = Array.from(new FormData(form)).filter(([, value]) => typeof value === "string");
  const count = kind === "results" ? entries.filter(([name, value]) => name.startsWith("result_") && value).length : 1;
  const heading = document.querySelector("h1.reg");
  await queue.add({
    kind,
    action: form.action,
    page: location.pathname,
    label: kind === "results" && heading ? heading.textContent.trim() : labelOf(form),
    entries,
    count,
    savedAt: Date.now(),
    refused: null,
  });
  if (kind === "results") {
    form.querySelectorAll("input[type=radio][name^=result_]").forEach((radio) => {
      radio.checked = radio.value === "";
    });
  } else if (form.querySelector("input:not([type=hidden]), select, textarea")) {
    form.reset();
    startNow(form);
  }
  freshKeys(form);
  justKept = true;
  // Where the browser has Background Sync, the worker sends it even with the page closed.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(queue.LOCK))
      .catch(() => {});
  }
}

// A time that starts at "now" (an arrival's) starts at the phone's now, not at the time
// the kept copy of the page was fetched.
function startNow(form) {
  form.querySelectorAll("input[data-now-when-kept]").forEach((input) => {
    input.value = localInputValue(Date.now());
  });
}

export function start() {
  const forms = document.querySelectorAll("form[data-queue]");
  if (document.body.dataset.offlineAt) {
    // The kept copy carries the keys of the page as it was fetched, which an entry kept
    // from it earlier may hold already: these forms get keys of their own.
    forms.forEach(freshKeys);
    forms.forEach(startNow);
  }
  forms.forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (navigator.onLine || event.defaultPrevented) {
        return;
      }
      event.preventDefault();
      keep(form).then(render);
    });
  });
  // The worker's token for a Background Sync: this page's, the freshest there is.
  const token = csrfToken();
  if (token) {
    queue.setMeta("csrf", token).catch(() => {});
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "outbox-sent") {
        noteSent(event.data.sent);
        render();
      }
    });
  }
  window.addEventListener("online", flush);
  render();
  if (navigator.onLine) {
    flush();
  }
}

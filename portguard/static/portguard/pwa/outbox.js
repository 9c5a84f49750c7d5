// The screening sheet's outbox. With no connection, submitting the sheet keeps it on the
// phone (IndexedDB: the form's data with its client keys) instead; the page says how many
// results wait. The queue is sent in order, the same form data posted again with the
// CSRF token of the page at hand, when the connection returns ("online") or on the next
// page load. The server stores each key once, so a sheet sent twice stores once. A sheet
// the server refuses stays, with the server's reason, until the inspector discards it.
import { formatTime } from "./time.js";

const DB_NAME = "portguard";
const STORE = "outbox";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const queued = () => run("readonly", (store) => store.getAll());
const add = (entry) => run("readwrite", (store) => store.add(entry));
const put = (entry) => run("readwrite", (store) => store.put(entry));
const remove = (id) => run("readwrite", (store) => store.delete(id));

const panel = document.querySelector("[data-outbox]");
const texts = panel ? panel.dataset : {};
let lastSent = 0;
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

function reasonOf(html, status) {
  const page = new DOMParser().parseFromString(html, "text/html");
  const found = Array.from(page.querySelectorAll("#sheet [role=alert], .msg-error"))
    .map((node) => node.textContent.replace(/\s+/g, " ").trim())
    .filter(Boolean);
  return [...new Set(found)].join(" ") || "HTTP " + status;
}

// Sends one kept sheet: "sent", "refused" (with the reason kept), or "later".
async function send(entry) {
  const body = new URLSearchParams(entry.entries.filter(([name]) => name !== "csrfmiddlewaretoken"));
  body.append("csrfmiddlewaretoken", csrfToken());
  let response;
  try {
    response = await fetch(entry.action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    });
  } catch (error) {
    return "later";
  }
  if (new URL(response.url).pathname.startsWith("/login/")) {
    return "later"; // signed out meanwhile: kept until the inspector signs in again
  }
  if (response.ok) {
    await remove(entry.id);
    return "sent";
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    entry.refused = reasonOf(await response.text(), response.status);
    await put(entry);
    return "refused";
  }
  return "later";
}

let flushing = null;

export function flush() {
  if (!flushing) {
    flushing = (async () => {
      let sent = 0;
      for (const entry of await queued()) {
        if (entry.refused) {
          continue;
        }
        const outcome = await send(entry);
        if (outcome === "later") {
          break;
        }
        if (outcome === "sent") {
          sent += entry.count;
        }
      }
      lastSent += sent;
      if (sent) {
        justKept = false;
      }
    })().finally(() => {
      flushing = null;
      render();
    });
  }
  return flushing;
}

const withLock = (work) =>
  navigator.locks ? navigator.locks.request("portguard-outbox", work) : work();

async function render() {
  if (!panel) {
    return;
  }
  const entries = await queued();
  const waiting = entries.filter((entry) => !entry.refused).reduce((sum, entry) => sum + entry.count, 0);
  panel.replaceChildren();
  const count = document.createElement("p");
  count.dataset.outboxCount = String(waiting);
  count.textContent = text(waiting === 1 ? "textWaitingOne" : "textWaitingOther", "{count} results waiting", {
    count: waiting,
  });
  panel.append(count);
  if (justKept) {
    const note = document.createElement("p");
    note.dataset.outboxKept = "";
    note.textContent = text("textKept", "Kept on this phone: sent when the connection returns.");
    panel.append(note);
  }
  if (lastSent) {
    const sent = document.createElement("p");
    sent.dataset.outboxSent = String(lastSent);
    sent.append(text("textSent", "{count} queued results sent.", { count: lastSent }) + " ");
    const reload = document.createElement("a");
    reload.href = location.pathname;
    reload.textContent = text("textReload", "Reload");
    sent.append(reload);
    panel.append(sent);
  }
  for (const entry of entries.filter((item) => item.refused)) {
    const row = document.createElement("div");
    row.className = "outbox-refused";
    row.setAttribute("role", "alert");
    row.dataset.outboxRefused = String(entry.id);
    const what = document.createElement("p");
    what.textContent =
      text("textRefused", "Refused: {what}", {
        what: text("textSheet", "{vessel}, sheet of {time}", { vessel: entry.label, time: formatTime(entry.savedAt) }),
      }) +
      " — " +
      entry.refused;
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-small btn-outline";
    discard.textContent = text("textDiscard", "Discard");
    discard.addEventListener("click", () => remove(entry.id).then(render));
    row.append(what, discard);
    panel.append(row);
  }
  panel.hidden = entries.length === 0 && !lastSent;
}

function keep(sheet) {
  const entries = Array.from(new FormData(sheet)).filter(([, value]) => typeof value === "string");
  const count = entries.filter(([name, value]) => name.startsWith("result_") && value).length;
  const heading = document.querySelector("h1.reg");
  return add({
    action: sheet.action,
    page: location.pathname,
    label: heading ? heading.textContent.trim() : document.title,
    entries,
    count,
    savedAt: Date.now(),
    refused: null,
  }).then(() => {
    // What was kept is a sheet of its own: the form starts again, with new keys.
    sheet.querySelectorAll("input[type=radio][name^=result_]").forEach((radio) => {
      radio.checked = radio.value === "";
    });
    sheet.querySelectorAll("input[name^=key_]").forEach((input) => {
      input.value = crypto.randomUUID();
    });
    justKept = true;
  });
}

export function start() {
  const sheet = document.querySelector("form[data-sheet]");
  if (sheet && document.body.dataset.offlineAt) {
    // The kept copy carries the keys of the page as it was fetched, which a sheet kept
    // from it earlier may hold already: this one gets keys of its own.
    sheet.querySelectorAll("input[name^=key_]").forEach((input) => {
      input.value = crypto.randomUUID();
    });
  }
  if (sheet) {
    sheet.addEventListener("submit", (event) => {
      if (navigator.onLine) {
        return;
      }
      event.preventDefault();
      keep(sheet).then(render);
    });
  }
  const sendAll = () => withLock(flush);
  window.addEventListener("online", sendAll);
  render();
  if (navigator.onLine) {
    sendAll();
  }
}

// The outbox's store and sender, shared by the pages (outbox.js) and the service worker
// (sw.js, which sends it on a Background Sync with no PortGuard page open). A classic
// script, so that the worker can importScripts it; it defines self.portguardQueue.
//
// An entry is a write a page's form made with no connection: the form's fields (with the
// client keys that make sending it twice store it once), where it posts, what it is
// (kind, label, how many results) and when it was kept. It is sent as it was filled in,
// with a current CSRF token. Outcomes: "sent" (removed), "refused" (the server said no:
// kept with the answer's page until the inspector discards it) or "later" (no network,
// a server error, a signed-out session, a stale CSRF token: tried again).
(function (scope) {
  "use strict";

  const DB_NAME = "portguard";
  const STORE = "outbox";
  const META = "meta";
  const LOCK = "portguard-outbox";

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 2);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          db.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
        }
        if (!db.objectStoreNames.contains(META)) {
          db.createObjectStore(META);
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(name, mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(name, mode);
        const result = work(tx.objectStore(name));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  const queued = () => run(STORE, "readonly", (store) => store.getAll());
  const add = (entry) => run(STORE, "readwrite", (store) => store.add(entry));
  const put = (entry) => run(STORE, "readwrite", (store) => store.put(entry));
  const remove = (id) => run(STORE, "readwrite", (store) => store.delete(id));
  const getMeta = (key) => run(META, "readonly", (store) => store.get(key));
  const setMeta = (key, value) => run(META, "readwrite", (store) => store.put(value, key));

  // One sender at a time, page or worker: each entry is posted once per attempt.
  const withLock = (work) => (scope.navigator && navigator.locks ? navigator.locks.request(LOCK, work) : work());

  // Sends one entry with this CSRF token (the entry's own when none is given).
  async function send(entry, token) {
    const own = entry.entries.find(([name]) => name === "csrfmiddlewaretoken");
    const csrf = token || (own ? own[1] : "");
    const body = new URLSearchParams(entry.entries.filter(([name]) => name !== "csrfmiddlewaretoken"));
    body.append("csrfmiddlewaretoken", csrf);
    let response;
    try {
      response = await fetch(entry.action, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
      });
    } catch (error) {
      return { outcome: "later" };
    }
    if (new URL(response.url).pathname.startsWith("/login/")) {
      return { outcome: "later" }; // signed out meanwhile: kept until the inspector signs in again
    }
    if (response.headers.get("X-CSRF-Failure")) {
      return { outcome: "later" }; // a token from before the last sign-in: the next page has a fresh one
    }
    if (response.ok) {
      await remove(entry.id);
      return { outcome: "sent", url: response.redirected ? response.url : null };
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      entry.refused = { status: response.status, page: await response.text() };
      await put(entry);
      return { outcome: "refused" };
    }
    return { outcome: "later" };
  }

  // Sends every waiting entry in the order it was kept; stops at the first "later" (the
  // ones after it wait their turn). Answers what was sent and whether some wait still.
  async function flush(token) {
    const sent = [];
    let waiting = false;
    for (const entry of await queued()) {
      if (entry.refused) {
        continue;
      }
      const { outcome, url } = await send(entry, token);
      if (outcome === "later") {
        waiting = true;
        break;
      }
      if (outcome === "sent") {
        sent.push({ kind: entry.kind, label: entry.label, count: entry.count, url });
      }
    }
    return { sent, waiting };
  }

  scope.portguardQueue = { queued, add, put, remove, getMeta, setMeta, withLock, flush, LOCK };
})(self);

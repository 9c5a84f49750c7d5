// PortGuard's service worker: the app shell is cached on install; the wharf dashboard,
// the port call page and the register-arrival form are fetched network first and kept,
// so that they open with no connection showing the last known state and when it was
// fetched. Writes are never cached here: the pages queue them (static/portguard/pwa/outbox.js),
// and the worker sends that queue on a Background Sync, even with no PortGuard page open.
"use strict";

importScripts({{ queue|safe }});

const VERSION = "v1";
const SHELL_CACHE = "portguard-shell-" + VERSION;
const PAGE_CACHE = "portguard-pages-" + VERSION;
const SHELL = {{ shell|safe }};
const STATIC_PREFIX = {{ static_prefix|safe }};
const OFFLINE_PAGES = [/^\/wharves\/[^/]+\/$/, /^\/port-calls\/\d+\/$/, /^\/port-calls\/new\/$/];
const FETCHED_HEADER = "X-PortGuard-Fetched";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("portguard-") && !name.endsWith("-" + VERSION))
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function keptPage(url) {
  return OFFLINE_PAGES.some((pattern) => pattern.test(url.pathname));
}

// The page as it came from the network, kept with the time it was fetched.
async function keep(request, response) {
  const headers = new Headers(response.headers);
  headers.set(FETCHED_HEADER, String(Date.now()));
  const body = await response.clone().blob();
  const cache = await caches.open(PAGE_CACHE);
  await cache.put(request.url, new Response(body, { status: 200, headers }));
}

// The kept page, marked so that its script shows it is offline and since when.
async function fromCache(request) {
  const cache = await caches.open(PAGE_CACHE);
  const kept = await cache.match(request.url);
  if (!kept) {
    return null;
  }
  const fetched = kept.headers.get(FETCHED_HEADER) || "";
  const html = (await kept.text()).replace("<body>", '<body data-offline-at="' + fetched + '">');
  const headers = new Headers(kept.headers);
  headers.delete("Content-Length");
  return new Response(html, { status: 200, headers });
}

async function page(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    const type = response.headers.get("Content-Type") || "";
    // Only the page itself: not a redirect to the login page, not an error.
    if (response.ok && !response.redirected && type.startsWith("text/html")) {
      event.waitUntil(keep(request, response));
    }
    return response;
  } catch (error) {
    const kept = await fromCache(request);
    if (kept) {
      return kept;
    }
    throw error;
  }
}

async function asset(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy)));
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { ignoreSearch: true });
    if (kept) {
      return kept;
    }
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && keptPage(url)) {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(asset(event));
  }
});

// Background Sync (where the browser has it): the queue kept by the pages is sent when the
// connection returns, with the CSRF token of the last page opened; the open pages are
// told what was sent. An attempt that leaves entries waiting fails, so that the browser
// tries again later.
async function sendQueue() {
  const queue = self.portguardQueue;
  const token = await queue.getMeta("csrf");
  const { sent, waiting } = await queue.withLock(() => queue.flush(token));
  if (sent.length) {
    const pages = await self.clients.matchAll({ type: "window" });
    pages.forEach((client) => client.postMessage({ type: "outbox-sent", sent }));
  }
  if (waiting) {
    throw new Error("PortGuard: entries still waiting");
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === self.portguardQueue.LOCK) {
    event.waitUntil(sendQueue());
  }
});

// A page opened before this worker ran asks to be kept: it is fetched again and kept as
// a page fetched through the worker would have been.
async function keepPage(href) {
  const url = new URL(href);
  if (url.origin !== self.location.origin || !keptPage(url)) {
    return;
  }
  const request = new Request(url.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  const response = await fetch(request);
  const type = response.headers.get("Content-Type") || "";
  if (response.ok && !response.redirected && type.startsWith("text/html")) {
    await keep(request, response);
  }
}

// A page asks to forget what is kept (logging out on a shared phone), or to be kept.
self.addEventListener("message", (event) => {
  if (event.data === "forget-pages") {
    event.waitUntil(caches.delete(PAGE_CACHE));
  } else if (event.data && event.data.type === "keep") {
    event.waitUntil(keepPage(event.data.url).catch(() => {}));
  }
});

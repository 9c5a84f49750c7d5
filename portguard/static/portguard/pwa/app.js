// PortGuard as an installable app: registers the service worker (served from /sw.js so
// that it controls the whole site), shows when a page was opened from the phone's copy
// with no connection, forgets the kept pages on logout, and starts the screening sheet's
// outbox (results entered offline, sent when the connection returns).
// The outbox is imported with the page's script, not later: its forms must be caught
// before the first tap, or a write made offline is lost to the browser's error page.
import { start as startOutbox } from "./outbox.js";
import { formatTime } from "./time.js";

const script = document.querySelector("script[data-pwa]");
const texts = script ? script.dataset : {};

// When the page shown was fetched: the kept copy's time, or now for a page from the network.
const keptAt = Number(document.body.dataset.offlineAt || "") || null;
const loadedAt = Date.now();

function showOffline() {
  let banner = document.querySelector("[data-offline-banner]");
  if (!banner) {
    banner = document.createElement("p");
    banner.className = "offline-banner";
    banner.setAttribute("role", "status");
    banner.dataset.offlineBanner = "";
    const main = document.querySelector("main") || document.body;
    main.prepend(banner);
  }
  banner.textContent = (texts.offlineText || "Offline — data as of {time}").replace(
    "{time}",
    formatTime(keptAt || loadedAt),
  );
  banner.hidden = false;
}

function hideOffline() {
  const banner = document.querySelector("[data-offline-banner]");
  // A kept copy stays marked as such until it is reloaded from the network.
  if (banner && !keptAt) {
    banner.hidden = true;
  }
}

if (keptAt || !navigator.onLine) {
  showOffline();
}
window.addEventListener("offline", showOffline);
window.addEventListener("online", hideOffline);

// A page that did not come through the worker (the first one opened, while the worker was
// still installing) is not kept by it: once the worker runs, it is asked to fetch and keep
// this page too, so that every page visited once opens offline.
function cameThroughWorker() {
  const [entry] = performance.getEntriesByType("navigation");
  return Boolean(entry && entry.workerStart > 0);
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker
    .register(texts.worker || "/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      if (!keptAt && !cameThroughWorker() && registration.active) {
        registration.active.postMessage({ type: "keep", url: location.href });
      }
    })
    .catch(() => {
      /* the pages work without it */
    });
}

// On a shared phone, the next person must not open the last one's pages offline.
const logout = document.querySelector("form.logout");
if (logout && "caches" in window) {
  logout.addEventListener("submit", (event) => {
    event.preventDefault();
    const names = caches.keys().then((all) => all.filter((name) => name.startsWith("portguard-pages-")));
    names
      .then((all) => Promise.all(all.map((name) => caches.delete(name))))
      .catch(() => {})
      .then(() => logout.submit());
  });
}

if ("indexedDB" in window) {
  startOutbox();
}

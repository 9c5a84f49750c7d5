// The positive-result banner: raised by an alert, resynchronised by each snapshot, emptied
// when an alert is acknowledged or closed elsewhere or dismissed here; with an optional
// sound, and a system notification where the user allowed them (seen also when this tab
// is in the background).

import { fill } from "./words.js";

const SOUND_KEY = "portguard-alert-sound";

export function createAlerts(root, config, state, times) {
  const text = config.text;
  const banner = root.querySelector("[data-alert-banner]");
  const alertList = banner.querySelector("[data-alert-list]");
  const pageTitle = document.title;
  let shownAlerts = new Set(); // ids of the alerts in the banner
  const dismissed = new Set(); // ids of the alerts dismissed on this page
  const sound = createSound(root);
  const notifier = createNotifier(root, config, state);

  function alertItem(message) {
    const item = document.createElement("li");
    item.setAttribute("data-alert-id", message.alert);
    const name = document.createElement("strong");
    name.className = "alert-name";
    name.textContent = message.kind === "pool_positive" ? message.test.pool_id : message.test.full_name;
    const where = document.createElement("span");
    where.textContent =
      message.vessel && message.kind !== "pool_positive"
        ? fill(text.alertVessel, { vessel: message.vessel, wharf: state.wharfLabel(message.wharf) })
        : message.message;
    const when = document.createElement("span");
    when.textContent = fill(text.alertSample, {
      kind: config.testKinds[message.test.kind] || message.test.kind,
      time: times.dateTime(message.test.sampled_at),
    });
    item.appendChild(name);
    item.appendChild(where);
    item.appendChild(when);
    return item;
  }

  function raise(message) {
    // The same alert may come in a snapshot and as an event: show it once.
    if (shownAlerts.has(message.alert) || dismissed.has(message.alert)) {
      return;
    }
    shownAlerts.add(message.alert);
    alertList.insertBefore(alertItem(message), alertList.firstChild);
    showBanner(true);
    // Only a positive sent now: the ones a snapshot replays were notified when they came.
    notifier.notify(message);
  }

  // The snapshot's open alerts replace the banner's list: one sent while this page was
  // away is raised now, one acknowledged meanwhile goes, one dismissed here stays so.
  function resync(open) {
    let fresh = false;
    const ids = new Set();
    alertList.textContent = "";
    open.forEach((message) => {
      if (dismissed.has(message.alert)) {
        return;
      }
      fresh = fresh || !shownAlerts.has(message.alert);
      ids.add(message.alert);
      alertList.insertBefore(alertItem(message), alertList.firstChild);
    });
    shownAlerts = ids;
    if (ids.size) {
      showBanner(fresh);
    } else {
      hideBanner();
    }
  }

  // Acknowledged elsewhere, or closed because the result behind it was corrected.
  function acknowledge(id) {
    const item = alertList.querySelector('[data-alert-id="' + id + '"]');
    if (item) {
      item.remove();
    }
    shownAlerts.delete(id);
    if (!shownAlerts.size) {
      hideBanner();
    }
  }

  function showBanner(loud) {
    banner.hidden = false;
    document.title = "⚠ " + pageTitle;
    if (loud) {
      banner.querySelector("[data-alert-ack]").focus();
      sound.beep();
    }
  }

  function hideBanner() {
    banner.hidden = true;
    alertList.textContent = "";
    document.title = pageTitle;
  }

  banner.querySelector("[data-alert-ack]").addEventListener("click", () => {
    shownAlerts.forEach((id) => {
      dismissed.add(id);
    });
    shownAlerts = new Set();
    hideBanner();
  });

  return { raise, resync, acknowledge };
}

// A system notification for each positive that arrives while the page is open, once the
// user allowed them with the page's button (browsers ask only on a user's tap).
function createNotifier(root, config, state) {
  const text = config.text;
  const wrapper = root.querySelector("[data-notify-enable]"); // .btn would show a hidden button
  const supported = "Notification" in window;

  function showButton() {
    if (wrapper) {
      wrapper.hidden = !supported || Notification.permission !== "default";
    }
  }

  showButton();
  if (wrapper && supported) {
    wrapper.querySelector("button").addEventListener("click", () => {
      const asked = Notification.requestPermission(showButton);
      if (asked && asked.then) {
        asked.then(showButton);
      }
    });
  }

  function notify(message) {
    if (!supported || Notification.permission !== "granted") {
      return;
    }
    const pool = message.kind === "pool_positive";
    const title = fill(text.notifyTitle, { name: pool ? message.test.pool_id : message.test.full_name });
    const wharf = state.wharfLabel(message.wharf);
    const body = message.vessel
      ? fill(text.alertVessel, { vessel: message.vessel, wharf })
      : fill(text.alertStation, { station: message.station || message.test.station, wharf });
    // One notification per alert, however many PortGuard pages are open.
    const options = { body, tag: "portguard-alert-" + message.alert, lang: document.documentElement.lang };
    try {
      const notification = new Notification(title, options);
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
    } catch (e) {
      // Chrome on Android shows notifications only through a service worker.
      if (navigator.serviceWorker) {
        navigator.serviceWorker.getRegistration().then((registration) => {
          if (registration) {
            registration.showNotification(title, options);
          }
        });
      }
    }
  }

  return { notify };
}

// A two-tone beep, if the page's toggle is on (remembered on this phone).
function createSound(root) {
  const soundToggle = root.querySelector("[data-sound]");
  let audio = null;

  try {
    soundToggle.checked = window.localStorage.getItem(SOUND_KEY) === "on";
  } catch (e) {
    /* storage may be unavailable in private mode */
  }

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
    }
    if (audio && audio.state === "suspended") {
      audio.resume();
    }
    return audio;
  }

  // Browsers start audio only after a tap: the toggle (or any tap) unlocks it.
  soundToggle.addEventListener("change", () => {
    try {
      window.localStorage.setItem(SOUND_KEY, soundToggle.checked ? "on" : "off");
    } catch (e) {
      /* ignore */
    }
    if (soundToggle.checked) {
      audioContext();
      beep();
    }
  });
  document.addEventListener(
    "pointerdown",
    () => {
      if (soundToggle.checked) {
        audioContext();
      }
    },
    { once: true }
  );

  function beep() {
    const context = soundToggle.checked ? audioContext() : null;
    if (!context) {
      return;
    }
    [0, 0.3].forEach((offset) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      const start = context.currentTime + offset;
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.2);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.2);
    });
  }

  return { beep };
}

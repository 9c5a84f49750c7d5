// PortGuard: small helpers for the screening sheet. The pages work without them.
(function () {
  "use strict";

  // Ask before destructive buttons (remove from manifest, record departure).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  var sheet = document.querySelector("form[data-sheet]");
  if (!sheet) {
    return;
  }
  var sampledAt = sheet.querySelector("input[name=sampled_at]");
  var timer = sheet.querySelector("[data-timer]");
  // The page's time zone (Asia/Ho_Chi_Minh) as minutes east of UTC: the phone may be set otherwise.
  var offset = Number(timer.getAttribute("data-utc-offset")) || 0;
  var readAfter = Number(timer.getAttribute("data-read-minutes")) * 60000;
  var storeKey = "portguard-sample-" + sheet.getAttribute("data-sheet");

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function localValue(ms) {
    return new Date(ms + offset * 60000).toISOString().slice(0, 16);
  }

  function sampleMillis() {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(sampledAt.value || "");
    if (!match) {
      return null;
    }
    return Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]) - offset * 60000;
  }

  function kind() {
    var checked = sheet.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  }

  // The timer starts when the inspector says when the samples were taken, not at page load.
  var started = timer.hasAttribute("data-started");

  function tick() {
    var sampled = sampleMillis();
    if (!started || kind() !== "rapid" || sampled === null) {
      timer.hidden = true;
      return;
    }
    var left = sampled + readAfter - Date.now();
    timer.hidden = false;
    if (left <= 0) {
      timer.classList.add("ready");
      timer.textContent = timer.getAttribute("data-text-ready");
    } else {
      var seconds = Math.ceil(left / 1000);
      timer.classList.remove("ready");
      timer.textContent =
        timer.getAttribute("data-text-wait") + " " + pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    }
  }

  // A sample time set with "Now" survives a reload for an hour, so the timer keeps running.
  try {
    var saved = JSON.parse(window.sessionStorage.getItem(storeKey) || "null");
    if (saved && Date.now() - saved.at < 3600000 && !started) {
      sampledAt.value = saved.value;
      started = true;
    }
  } catch (e) {
    /* storage may be unavailable in private mode */
  }

  sheet.querySelector("[data-sample-now]").addEventListener("click", function () {
    sampledAt.value = localValue(Date.now());
    started = true;
    try {
      window.sessionStorage.setItem(storeKey, JSON.stringify({ value: sampledAt.value, at: Date.now() }));
    } catch (e) {
      /* ignore */
    }
    tick();
  });

  var allNegative = sheet.querySelector("[data-all-negative]");
  if (allNegative) {
    allNegative.addEventListener("click", function () {
      sheet.querySelectorAll(".opt-negative input").forEach(function (radio) {
        radio.checked = true;
      });
    });
  }

  sheet.addEventListener("submit", function () {
    try {
      window.sessionStorage.removeItem(storeKey);
    } catch (e) {
      /* ignore */
    }
  });
  sheet.addEventListener("change", tick);
  sampledAt.addEventListener("input", function () {
    started = true;
    tick();
  });
  tick();
  window.setInterval(tick, 1000);
})();

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
  var callId = sheet.getAttribute("data-sheet");
  var sheetTimer = sheet.querySelector("[data-timer]");
  // The page's time zone (Asia/Ho_Chi_Minh) as minutes east of UTC: the phone may be set otherwise.
  var offset = Number(sheetTimer.getAttribute("data-utc-offset")) || 0;
  var readAfter = Number(sheetTimer.getAttribute("data-read-minutes")) * 60000;

  // Kit timers live in localStorage, one record per port call and sample ("sheet" for the
  // sheet's own time, else the person's id): {sampled: ms, rung: ms or null}. They survive
  // a reload and a phone restart, stop once the page shows a result stored for that
  // sample, and are dropped a few hours after the sample.
  var PREFIX = "portguard-kit:";
  var KEEP_MS = 4 * 3600000;

  function storeKey(who) {
    return PREFIX + callId + ":" + who;
  }

  function load(who) {
    try {
      var record = JSON.parse(window.localStorage.getItem(storeKey(who)) || "null");
      return record && typeof record.sampled === "number" ? record : null;
    } catch (e) {
      return null; // storage may be unavailable in private mode
    }
  }

  function save(who, record) {
    try {
      window.localStorage.setItem(storeKey(who), JSON.stringify(record));
    } catch (e) {
      /* ignore */
    }
  }

  function forget(who) {
    try {
      window.localStorage.removeItem(storeKey(who));
    } catch (e) {
      /* ignore */
    }
  }

  function expired(record) {
    return Date.now() - record.sampled > KEEP_MS;
  }

  // Old records of any port call go, so the phone does not keep them for ever.
  try {
    for (var i = window.localStorage.length - 1; i >= 0; i--) {
      var name = window.localStorage.key(i);
      if (name && name.indexOf(PREFIX) === 0) {
        var old = JSON.parse(window.localStorage.getItem(name) || "null");
        if (!old || typeof old.sampled !== "number" || Date.now() - old.sampled > KEEP_MS) {
          window.localStorage.removeItem(name);
        }
      }
    }
  } catch (e) {
    /* ignore */
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function localValue(ms) {
    return new Date(ms + offset * 60000).toISOString().slice(0, 16);
  }

  function millisOf(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!match) {
      return null;
    }
    return Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]) - offset * 60000;
  }

  function kind() {
    var checked = sheet.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  }

  // --- Ringing: a vibration and a short tone, once per sample --------------------------

  var audio = null;

  function unlockAudio() {
    // Browsers let a page play sound only once it has been touched: the context is made
    // (or resumed) on a tap, and used later when a kit is ready.
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return null;
    }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") {
        audio.resume();
      }
    } catch (e) {
      audio = null;
    }
    return audio;
  }

  function tone() {
    var context = unlockAudio();
    if (!context) {
      return;
    }
    var start = context.currentTime;
    [0, 0.35].forEach(function (at) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.5, start + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.25);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(start + at);
      oscillator.stop(start + at + 0.3);
    });
  }

  function buzz() {
    if (navigator.vibrate) {
      navigator.vibrate([400, 200, 400]);
    }
    tone();
  }

  // A page reloaded and not touched since may neither vibrate nor play sound: a kit that
  // becomes readable then rings at the first touch.
  var waiting = [];

  function ring(timer, record) {
    var activation = navigator.userActivation;
    if (activation && !activation.hasBeenActive) {
      if (waiting.indexOf(timer) < 0) {
        waiting.push(timer);
      }
      return;
    }
    record.rung = Date.now();
    save(timer.who, record);
    buzz();
  }

  document.addEventListener(
    "pointerdown",
    function () {
      unlockAudio();
      if (!waiting.length) {
        return;
      }
      var due = waiting;
      waiting = [];
      var rang = false;
      due.forEach(function (timer) {
        var record = load(timer.who);
        if (record && !record.rung) {
          record.rung = Date.now();
          save(timer.who, record);
          rang = true;
        }
      });
      if (rang) {
        buzz();
      }
    },
    true,
  );

  // --- The timers ----------------------------------------------------------------------

  function makeTimer(who, input, display, waitText, readyText) {
    return { who: who, input: input, display: display, waitText: waitText, readyText: readyText, started: false };
  }

  // Remembers the sample an input now holds (a new sample rings anew).
  function remember(timer) {
    var sampled = millisOf(timer.input.value);
    if (sampled === null) {
      forget(timer.who);
      return;
    }
    var record = load(timer.who);
    if (!record || record.sampled !== sampled) {
      save(timer.who, { sampled: sampled, rung: null });
    }
  }

  // The time the sheet's sampled_at field gives, for everyone without a time of their own.
  var sheetInput = sheet.querySelector("input[name=sampled_at]");
  var sheetClock = makeTimer(
    "sheet",
    sheetInput,
    sheetTimer,
    sheetTimer.getAttribute("data-text-wait"),
    sheetTimer.getAttribute("data-text-ready"),
  );
  // The sheet's timer starts when the inspector says when the samples were taken, not at page load.
  sheetClock.started = sheetTimer.hasAttribute("data-started");

  var personClocks = [];
  var storedSamples = [];
  sheet.querySelectorAll("[data-kit]").forEach(function (row) {
    var stored = row.hasAttribute("data-stored-sample") ? Number(row.getAttribute("data-stored-sample")) * 1000 : null;
    if (stored !== null) {
      storedSamples.push(stored);
    }
    var clock = makeTimer(
      row.getAttribute("data-kit"),
      row.querySelector("input[name^=sampled_]"),
      row.querySelector("[data-kit-timer]"),
      sheetTimer.getAttribute("data-text-kit-wait"),
      sheetTimer.getAttribute("data-text-kit-ready"),
    );
    clock.stored = stored;
    personClocks.push(clock);
  });

  // A person's timer stops once a result of theirs sampled then or later is stored; the
  // sheet's once any result sampled at the sheet's time is.
  function isStored(timer, sampled) {
    if (timer.who === "sheet") {
      return storedSamples.indexOf(sampled) >= 0;
    }
    return timer.stored !== null && timer.stored >= sampled;
  }

  function restore(timer) {
    var record = load(timer.who);
    if (record && (expired(record) || isStored(timer, record.sampled))) {
      forget(timer.who);
      record = null;
    }
    if (timer.started) {
      remember(timer); // a sheet shown again after an error keeps the times it was sent with
    } else if (record) {
      timer.input.value = localValue(record.sampled);
      timer.started = true;
    }
  }

  function tick(timer) {
    var sampled = millisOf(timer.input.value);
    if (!timer.started || kind() !== "rapid" || sampled === null) {
      timer.display.hidden = true;
      return;
    }
    var record = load(timer.who);
    if (record && expired(record)) {
      forget(timer.who);
      timer.display.hidden = true;
      return;
    }
    var left = sampled + readAfter - Date.now();
    timer.display.hidden = false;
    if (left <= 0) {
      timer.display.classList.add("ready");
      timer.display.textContent = timer.readyText;
      if (record && record.sampled === sampled && !record.rung) {
        ring(timer, record);
      }
    } else {
      var seconds = Math.ceil(left / 1000);
      timer.display.classList.remove("ready");
      timer.display.textContent = timer.waitText + " " + pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
    }
  }

  var clocks = [sheetClock].concat(personClocks);

  function tickAll() {
    clocks.forEach(tick);
  }

  function sampleNow(timer) {
    unlockAudio();
    timer.input.value = localValue(Date.now());
    timer.started = true;
    remember(timer);
    tick(timer);
  }

  clocks.forEach(function (timer) {
    if (timer !== sheetClock) {
      timer.started = Boolean(timer.input.value);
    }
    restore(timer);
    timer.input.addEventListener("input", function () {
      timer.started = true;
      remember(timer);
      tick(timer);
    });
  });

  sheet.querySelector("[data-sample-now]").addEventListener("click", function () {
    sampleNow(sheetClock);
  });
  personClocks.forEach(function (timer) {
    timer.input
      .closest("[data-kit]")
      .querySelector("[data-sample-person]")
      .addEventListener("click", function () {
        sampleNow(timer);
      });
  });

  var allNegative = sheet.querySelector("[data-all-negative]");
  if (allNegative) {
    allNegative.addEventListener("click", function () {
      sheet.querySelectorAll(".opt-negative input").forEach(function (radio) {
        radio.checked = true;
      });
    });
  }

  // A sheet kept on the phone with no connection (the outbox stops its submit) carries
  // its times: the people whose results it holds start the next sheet with no time of
  // their own and no timer. Their results are read here, before the outbox clears them
  // (capture phase); the times go once the outbox has read the form.
  sheet.addEventListener(
    "submit",
    function (event) {
      var kept = personClocks.filter(function (timer) {
        var result = sheet.querySelector("input[name=result_" + timer.who + "]:checked");
        return result && result.value;
      });
      window.setTimeout(function () {
        if (!event.defaultPrevented) {
          return;
        }
        kept.forEach(function (timer) {
          timer.input.value = "";
          timer.started = false;
          forget(timer.who);
          tick(timer);
        });
      }, 0);
    },
    true,
  );

  sheet.addEventListener("change", tickAll);
  tickAll();
  window.setInterval(tickAll, 1000);
})();

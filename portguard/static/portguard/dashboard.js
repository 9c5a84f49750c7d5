// PortGuard live dashboards (wharf and province): one WebSocket, no build step.
// Every connection starts with the server's snapshot, which replaces the whole state,
// so after a reconnection the page never keeps showing stale data silently.
(function () {
  "use strict";

  var root = document.querySelector("[data-live]");
  var configNode = document.getElementById("live-config");
  if (!root || !configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var text = config.text;
  var isProvince = root.getAttribute("data-live") === "province";

  var FIRST_RETRY_MS = 500;
  var MAX_RETRY_MS = 10000;
  var FEED_LENGTH = 50;
  var CLOSE_UNAUTHENTICATED = 4401;
  var CLOSE_FORBIDDEN = 4403;

  var calls = new Map(); // port call id -> summary, as in the snapshot
  var wharves = new Map(); // wharf code -> {code, name, locality}
  var overdue = []; // overdue KCS staff tests, as in the snapshot, oldest first
  var versions = new Map(); // port call id -> highest version seen, departed calls too
  var shownAlerts = new Set(); // ids of the alerts in the banner
  var dismissed = new Set(); // ids of the alerts dismissed on this page
  var socket = null;
  var retryTimer = null;
  var attempt = 0;
  var synced = false; // a snapshot has been received on some connection

  // --- Words and times ----------------------------------------------------------------

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    });
  }

  var dateParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });

  function parts(value) {
    var out = {};
    dateParts.formatToParts(new Date(value)).forEach(function (part) {
      out[part.type] = part.value;
    });
    return out;
  }

  // "H:i d/m/Y" in Vietnam time, as the server renders it, whatever the phone's zone.
  function dateTime(value) {
    var p = parts(value);
    return p.hour + ":" + p.minute + " " + p.day + "/" + p.month + "/" + p.year;
  }

  // "H:i d/m", for times within the last few days.
  function shortDateTime(value) {
    var p = parts(value);
    return p.hour + ":" + p.minute + " " + p.day + "/" + p.month;
  }

  function clock(value) {
    var p = parts(value);
    return p.hour + ":" + p.minute + ":" + p.second;
  }

  function vesselOf(callId) {
    var call = calls.get(callId);
    return call ? call.vessel.registration : "#" + callId;
  }

  function wharfLabel(code) {
    var wharf = wharves.get(code);
    return wharf ? code + " " + wharf.name : code;
  }

  // --- Connection state ---------------------------------------------------------------

  var statusNode = root.querySelector("[data-live-status]");
  var statusText = root.querySelector("[data-live-text]");
  var loginLink = root.querySelector("[data-live-login]");

  function setConnection(state) {
    statusNode.setAttribute("data-state", state);
    root.classList.toggle("is-stale", state !== "live");
    loginLink.hidden = state !== "unauthenticated";
    if (state === "reconnecting") {
      statusText.textContent = text.reconnecting + " " + text.stale;
    } else {
      statusText.textContent = text[state];
    }
  }

  function connect() {
    retryTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + window.location.host + config.socket);
    socket = ws;
    ws.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      handle(message);
    };
    ws.onclose = function (event) {
      if (socket !== ws) {
        return;
      }
      socket = null;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        setConnection("unauthenticated");
      } else if (event.code === CLOSE_FORBIDDEN) {
        setConnection("forbidden");
      } else {
        setConnection("reconnecting");
        scheduleReconnect();
      }
    };
  }

  function scheduleReconnect() {
    var ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * Math.pow(2, attempt));
    attempt += 1;
    // Jitter, so that every dashboard does not come back at the same instant after a restart.
    retryTimer = window.setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  // The phone got its network back: no need to wait for the rest of the backoff.
  window.addEventListener("online", function () {
    if (retryTimer !== null) {
      window.clearTimeout(retryTimer);
      connect();
    }
  });

  // --- Messages -----------------------------------------------------------------------

  function handle(message) {
    switch (message.type) {
      case "snapshot":
        replaceState(message);
        break;
      case "port_call.updated":
        portCallUpdated(message.port_call);
        break;
      case "test.recorded":
        addFeed(
          "test",
          fill(text.testRecorded, {
            name: message.test.full_name,
            vessel: vesselOf(message.test.port_call),
            kind: config.testKinds[message.test.kind] || message.test.kind,
            result: config.testResults[message.test.result] || message.test.result,
          })
        );
        break;
      case "alert.positive":
        // A crew member's positive is told from its parts; a KCS staff member's and a
        // pool's carry their own sentence.
        addFeed(
          "alert",
          message.vessel && message.kind !== "pool_positive"
            ? fill(text.alertPositive, {
                name: message.test.full_name,
                vessel: message.vessel,
                wharf: wharfLabel(message.wharf),
              })
            : message.message
        );
        raiseAlert(message);
        break;
      case "alert.raised":
        // A quarantine's alert carries its own sentence; a suspension's is told by
        // its handover.suspended event.
        if (message.alert.kind !== "suspension") {
          addFeed("alert", message.alert.message);
        }
        break;
      case "alert.acknowledged":
        alertAcknowledged(message.alert);
        break;
      case "alert.closed":
        // The result behind it was corrected: the alert no longer stands.
        alertAcknowledged(message.alert);
        addFeed("alert", message.reason);
        break;
      case "handover.approved":
        addFeed(
          "handover",
          fill(text.handoverApproved, { vessel: vesselOf(message.port_call), user: message.approved_by })
        );
        break;
      case "handover.suspended":
        addFeed(
          "alert",
          fill(text.handoverSuspended, { vessel: vesselOf(message.port_call), reason: message.reason })
        );
        break;
      case "staff.overdue":
        staffOverdue(message);
        break;
      default:
        break;
    }
  }

  function replaceState(snapshot) {
    attempt = 0;
    wharves = new Map();
    snapshot.wharves.forEach(function (wharf) {
      wharves.set(wharf.code, wharf);
    });
    calls = new Map();
    snapshot.port_calls.forEach(function (call) {
      calls.set(call.id, call);
      versions.set(call.id, call.version);
    });
    overdue = snapshot.overdue_staff || [];
    render();
    renderOverdue();
    resyncAlerts(snapshot.alerts || []);
    if (synced) {
      addFeed("info", text.resynced);
    }
    synced = true;
    setConnection("live");
  }

  function portCallUpdated(call) {
    // Two server processes may publish updates of one call in the wrong order: keep
    // the newest state, whichever arrives last.
    if (versions.has(call.id) && call.version < versions.get(call.id)) {
      return;
    }
    versions.set(call.id, call.version);
    var known = calls.has(call.id);
    if (call.status === "departed") {
      calls.delete(call.id);
    } else {
      calls.set(call.id, call);
    }
    render(call.id);
    if (!known && call.status !== "departed") {
      addFeed("call", fill(text.arrived, { vessel: call.vessel.registration, wharf: wharfLabel(call.wharf) }));
    } else {
      addFeed(
        "call",
        fill(text.portCallUpdated, {
          vessel: call.vessel.registration,
          wharf: wharfLabel(call.wharf),
          status: config.statuses[call.status] || call.status,
          negative: call.counts.negative,
          crew: call.counts.crew,
        })
      );
    }
  }

  function overdueKey(entry) {
    return [entry.wharf, entry.id_number, entry.kind, entry.due_by].join("|");
  }

  // The periodic check (manage.py check_overdue) sends a wharf's whole list: it replaces
  // that wharf's entries, and only the tests newly overdue go to the feed.
  function staffOverdue(message) {
    var known = new Set(overdue.map(overdueKey));
    overdue = overdue
      .filter(function (entry) {
        return entry.wharf !== message.wharf;
      })
      .concat(message.overdue_staff)
      .sort(function (a, b) {
        return new Date(a.due_by) - new Date(b.due_by);
      });
    renderOverdue();
    if (!overdueList) {
      return;
    }
    message.overdue_staff.forEach(function (entry) {
      if (!known.has(overdueKey(entry))) {
        addFeed(
          "overdue",
          fill(text.staffOverdue, { name: entry.full_name, station: entry.station, what: overdueWhat(entry) })
        );
      }
    });
  }

  // --- Rendering ----------------------------------------------------------------------

  function render(changedId) {
    if (isProvince) {
      renderWharves();
    } else {
      renderCards(changedId);
    }
  }

  function setField(node, name, value) {
    var field = node.querySelector('[data-field="' + name + '"]');
    if (field && field.textContent !== String(value)) {
      field.textContent = value;
    }
    return field;
  }

  function flash(node) {
    node.classList.remove("is-updated");
    void node.offsetWidth; // restart the animation
    node.classList.add("is-updated");
  }

  function newestFirst(a, b) {
    var byArrival = new Date(b.arrived_at) - new Date(a.arrived_at);
    return byArrival || b.id - a.id;
  }

  var cardList = root.querySelector("[data-cards]");
  var cardTemplate = root.querySelector("template[data-card-template]");

  function renderCards(changedId) {
    var existing = new Map();
    cardList.querySelectorAll("[data-call]").forEach(function (node) {
      existing.set(Number(node.getAttribute("data-call")), node);
    });
    var ordered = Array.from(calls.values()).sort(newestFirst);
    ordered.forEach(function (call, index) {
      var node = existing.get(call.id);
      if (!node) {
        node = cardTemplate.content.firstElementChild.cloneNode(true);
      }
      existing.delete(call.id);
      fillCard(node, call);
      if (cardList.children[index] !== node) {
        cardList.insertBefore(node, cardList.children[index] || null);
      }
      if (call.id === changedId) {
        flash(node);
      }
    });
    existing.forEach(function (node) {
      node.remove();
    });
    root.querySelector("[data-cards-empty]").hidden = ordered.length > 0;
    setTotal("open", ordered.length);
  }

  function fillCard(node, call) {
    node.setAttribute("data-call", call.id);
    node.setAttribute("data-status", call.status);
    node.setAttribute("href", config.callUrl.replace("/0/", "/" + call.id + "/"));
    setField(node, "registration", call.vessel.registration);
    setField(node, "name", call.vessel.name);
    var chip = setField(node, "status", config.statuses[call.status] || call.status);
    chip.className = "chip status-" + call.status;
    var arrived = setField(node, "arrived_at", dateTime(call.arrived_at));
    arrived.setAttribute("datetime", call.arrived_at);
    setField(node, "origin", call.origin);
    node.querySelector('[data-show="origin"]').hidden = !call.origin;
    // Flags turn while the page is open: an area declared, a violation recorded.
    node.querySelector('[data-flag="origin"]').hidden = !call.origin_flagged;
    node.querySelector('[data-flag="repeat"]').hidden = !call.repeat_offender;
    ["crew", "tested", "negative", "blocking"].forEach(function (name) {
      setField(node, name, call.counts[name]);
    });
  }

  function setTotal(name, value) {
    var node = root.querySelector('[data-total="' + name + '"]');
    if (node) {
      node.textContent = value;
    }
  }

  var wharfList = root.querySelector("[data-wharves]");
  var wharfTemplate = root.querySelector("template[data-wharf-template]");

  function bucketOf(status) {
    var found = null;
    Object.keys(config.buckets).forEach(function (bucket) {
      if (config.buckets[bucket].indexOf(status) !== -1) {
        found = bucket;
      }
    });
    return found;
  }

  // As on the approvals page: everyone on board cleared, handover not approved yet.
  function renderWharves() {
    var tallies = new Map();
    wharves.forEach(function (_wharf, code) {
      tallies.set(code, { open: 0, cleared: 0, blocked: 0, awaiting: 0 });
    });
    var totals = { open: 0, blocked: 0, pending: 0 };
    calls.forEach(function (call) {
      var tally = tallies.get(call.wharf);
      var bucket = bucketOf(call.status);
      if (tally) {
        tally.open += 1;
        if (bucket) {
          tally[bucket] += 1;
        }
      }
      totals.open += 1;
      totals.blocked += bucket === "blocked" ? 1 : 0;
      totals.pending += call.awaits_approval ? 1 : 0;
    });

    var existing = new Map();
    wharfList.querySelectorAll("[data-wharf]").forEach(function (node) {
      existing.set(node.getAttribute("data-wharf"), node);
    });
    var index = 0;
    wharves.forEach(function (wharf, code) {
      var node = existing.get(code);
      if (!node) {
        node = wharfTemplate.content.firstElementChild.cloneNode(true);
      }
      existing.delete(code);
      fillWharf(node, wharf, tallies.get(code));
      if (wharfList.children[index] !== node) {
        wharfList.insertBefore(node, wharfList.children[index] || null);
      }
      index += 1;
    });
    existing.forEach(function (node) {
      node.remove();
    });
    Object.keys(totals).forEach(function (name) {
      setTotal(name, totals[name]);
    });
  }

  function fillWharf(node, wharf, tally) {
    node.setAttribute("data-wharf", wharf.code);
    node.toggleAttribute("data-alert", tally.blocked > 0);
    node.querySelector("a").setAttribute("href", config.wharfUrl.replace("__code__", encodeURIComponent(wharf.code)));
    setField(node, "code", wharf.code);
    setField(node, "name", wharf.name);
    setField(node, "locality", config.localities[wharf.locality] || wharf.locality);
    Object.keys(tally).forEach(function (name) {
      var count = node.querySelector('[data-count="' + name + '"]');
      if (count.textContent !== String(tally[name])) {
        count.textContent = tally[name];
        flash(node);
      }
    });
  }

  var overdueList = root.querySelector("[data-overdue-list]");
  var overdueTemplate = root.querySelector("template[data-overdue-template]");

  function overdueWhat(entry) {
    var date = entry.date.split("-");
    var day = date[2] + "/" + date[1];
    if (entry.kind !== "rapid") {
      return "■ RT-PCR " + day;
    }
    return fill(text.overdueRapid, { shift: entry.shift, day: day });
  }

  function renderOverdue() {
    if (!overdueList) {
      return; // the province overview lists no staff
    }
    overdueList.textContent = "";
    overdue.forEach(function (entry) {
      var node = overdueTemplate.content.firstElementChild.cloneNode(true);
      node.setAttribute("data-overdue", entry.id_number);
      setField(node, "full_name", entry.full_name);
      setField(node, "id_number", entry.id_number);
      setField(node, "station", entry.station);
      setField(node, "what", overdueWhat(entry));
      setField(node, "due_by", shortDateTime(entry.due_by)).setAttribute("datetime", entry.due_by);
      overdueList.appendChild(node);
    });
    root.querySelector("[data-overdue-empty]").hidden = overdue.length > 0;
    setTotal("overdue", overdue.length);
  }

  // --- The event feed -----------------------------------------------------------------

  var feed = root.querySelector("[data-feed]");

  function addFeed(kind, line) {
    var empty = feed.querySelector("[data-feed-empty]");
    if (empty) {
      empty.remove();
    }
    var item = document.createElement("li");
    item.className = "feed-item feed-" + kind;
    var time = document.createElement("time");
    var now = new Date();
    time.setAttribute("datetime", now.toISOString());
    time.textContent = clock(now);
    item.appendChild(time);
    item.appendChild(document.createTextNode(" " + line));
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > FEED_LENGTH) {
      feed.lastElementChild.remove();
    }
  }

  // --- Positive alerts ----------------------------------------------------------------

  var banner = root.querySelector("[data-alert-banner]");
  var alertList = banner.querySelector("[data-alert-list]");
  var pageTitle = document.title;

  function alertItem(message) {
    var item = document.createElement("li");
    item.setAttribute("data-alert-id", message.alert);
    var name = document.createElement("strong");
    name.className = "alert-name";
    name.textContent = message.kind === "pool_positive" ? message.test.pool_id : message.test.full_name;
    var where = document.createElement("span");
    where.textContent =
      message.vessel && message.kind !== "pool_positive"
        ? fill(text.alertVessel, { vessel: message.vessel, wharf: wharfLabel(message.wharf) })
        : message.message;
    var when = document.createElement("span");
    when.textContent = fill(text.alertSample, {
      kind: config.testKinds[message.test.kind] || message.test.kind,
      time: dateTime(message.test.sampled_at),
    });
    item.appendChild(name);
    item.appendChild(where);
    item.appendChild(when);
    return item;
  }

  function raiseAlert(message) {
    // The same alert may come in a snapshot and as an event: show it once.
    if (shownAlerts.has(message.alert) || dismissed.has(message.alert)) {
      return;
    }
    shownAlerts.add(message.alert);
    alertList.insertBefore(alertItem(message), alertList.firstChild);
    showBanner(true);
  }

  // The snapshot's open alerts replace the banner's list: one sent while this page was
  // away is raised now, one acknowledged meanwhile goes, one dismissed here stays so.
  function resyncAlerts(open) {
    var fresh = false;
    var ids = new Set();
    alertList.textContent = "";
    open.forEach(function (message) {
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

  function alertAcknowledged(id) {
    var item = alertList.querySelector('[data-alert-id="' + id + '"]');
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
      beep();
    }
  }

  function hideBanner() {
    banner.hidden = true;
    alertList.textContent = "";
    document.title = pageTitle;
  }

  banner.querySelector("[data-alert-ack]").addEventListener("click", function () {
    shownAlerts.forEach(function (id) {
      dismissed.add(id);
    });
    shownAlerts = new Set();
    hideBanner();
  });

  // --- Optional sound -----------------------------------------------------------------

  var SOUND_KEY = "portguard-alert-sound";
  var soundToggle = root.querySelector("[data-sound]");
  var audio = null;

  try {
    soundToggle.checked = window.localStorage.getItem(SOUND_KEY) === "on";
  } catch (e) {
    /* storage may be unavailable in private mode */
  }

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
    }
    if (audio && audio.state === "suspended") {
      audio.resume();
    }
    return audio;
  }

  // Browsers start audio only after a tap: the toggle (or any tap) unlocks it.
  soundToggle.addEventListener("change", function () {
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
    function () {
      if (soundToggle.checked) {
        audioContext();
      }
    },
    { once: true }
  );

  function beep() {
    var context = soundToggle.checked ? audioContext() : null;
    if (!context) {
      return;
    }
    [0, 0.3].forEach(function (offset) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      var start = context.currentTime + offset;
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.2);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.2);
    });
  }

  connect();
})();

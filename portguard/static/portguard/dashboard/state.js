// What the dashboard knows, and how each server event changes it. No DOM here: the view
// and the alert banner are handed in.

import { fill, kitsRestockedLine, kitsShortLine, overdueWhat } from "./words.js";

export function createState() {
  const state = {
    calls: new Map(), // port call id -> summary, as in the snapshot
    wharves: new Map(), // wharf code -> {code, name, locality}
    overdue: [], // overdue KCS staff tests, as in the snapshot, oldest first
    kitsShort: new Map(), // "station:CODE" or "wharf:CODE" -> its kits.short entry
    versions: new Map(), // port call id -> highest version seen, departed calls too

    replace(snapshot) {
      state.wharves = new Map();
      snapshot.wharves.forEach((wharf) => {
        state.wharves.set(wharf.code, wharf);
      });
      state.calls = new Map();
      snapshot.port_calls.forEach((call) => {
        state.calls.set(call.id, call);
        state.versions.set(call.id, call.version);
      });
      state.overdue = snapshot.overdue_staff || [];
      state.kitsShort = new Map();
      (snapshot.kits_short || []).forEach((entry) => {
        state.kitsShort.set(kitsShortKey(entry), entry);
      });
    },

    // A place newly short of rapid kits: shown until it is restocked (kits.restocked) or
    // a snapshot no longer lists it.
    updateKitsShort(entry) {
      state.kitsShort.set(kitsShortKey(entry), entry);
    },

    dropKitsShort(entry) {
      state.kitsShort.delete(kitsShortKey(entry));
    },

    // Two server processes may publish updates of one call in the wrong order: keep the
    // newest state, whichever arrives last. Answers whether the update was kept.
    updateCall(call) {
      if (state.versions.has(call.id) && call.version < state.versions.get(call.id)) {
        return false;
      }
      state.versions.set(call.id, call.version);
      if (call.status === "departed") {
        state.calls.delete(call.id);
      } else {
        state.calls.set(call.id, call);
      }
      return true;
    },

    // The periodic check (manage.py check_overdue) sends a wharf's whole list: it replaces
    // that wharf's entries. Answers the entries newly overdue.
    updateOverdue(wharf, entries) {
      const known = new Set(state.overdue.map(overdueKey));
      state.overdue = state.overdue
        .filter((entry) => entry.wharf !== wharf)
        .concat(entries)
        .sort((a, b) => new Date(a.due_by) - new Date(b.due_by));
      return entries.filter((entry) => !known.has(overdueKey(entry)));
    },

    vesselOf(callId) {
      const call = state.calls.get(callId);
      return call ? call.vessel.registration : "#" + callId;
    },

    wharfLabel(code) {
      const wharf = state.wharves.get(code);
      return wharf ? code + " " + wharf.name : code;
    },
  };
  return state;
}

function kitsShortKey(entry) {
  return entry.place_kind + ":" + entry.code;
}

function overdueKey(entry) {
  return [entry.wharf, entry.id_number, entry.kind, entry.due_by].join("|");
}

// Apply each server message to the state, the view and the alert banner.
export function createHandler({ config, state, view, alerts }) {
  const text = config.text;
  let synced = false; // a snapshot has been received on some connection

  function snapshot(message) {
    state.replace(message);
    view.render();
    view.renderOverdue();
    view.renderKitsShort();
    alerts.resync(message.alerts || []);
    if (synced) {
      view.addFeed("info", text.resynced);
    }
    synced = true;
  }

  function portCallUpdated(call) {
    const known = state.calls.has(call.id);
    if (!state.updateCall(call)) {
      return;
    }
    view.render(call.id);
    if (!known && call.status !== "departed") {
      view.addFeed("call", fill(text.arrived, { vessel: call.vessel.registration, wharf: state.wharfLabel(call.wharf) }));
    } else {
      view.addFeed(
        "call",
        fill(text.portCallUpdated, {
          vessel: call.vessel.registration,
          wharf: state.wharfLabel(call.wharf),
          status: config.statuses[call.status] || call.status,
          negative: call.counts.negative,
          crew: call.counts.crew,
        })
      );
    }
  }

  function staffOverdue(message) {
    const fresh = state.updateOverdue(message.wharf, message.overdue_staff);
    view.renderOverdue();
    if (!view.listsStaff) {
      return;
    }
    fresh.forEach((entry) => {
      view.addFeed(
        "overdue",
        fill(text.staffOverdue, { name: entry.full_name, station: entry.station, what: overdueWhat(entry, text) })
      );
    });
  }

  return function handle(message) {
    switch (message.type) {
      case "snapshot":
        snapshot(message);
        break;
      case "port_call.updated":
        portCallUpdated(message.port_call);
        break;
      case "test.recorded":
        view.addFeed(
          "test",
          fill(text.testRecorded, {
            name: message.test.full_name,
            vessel: state.vesselOf(message.test.port_call),
            kind: config.testKinds[message.test.kind] || message.test.kind,
            result: config.testResults[message.test.result] || message.test.result,
          })
        );
        break;
      case "alert.positive":
        // A crew member's positive is told from its parts; a KCS staff member's and a
        // pool's carry their own sentence.
        view.addFeed(
          "alert",
          message.vessel && message.kind !== "pool_positive"
            ? fill(text.alertPositive, {
                name: message.test.full_name,
                vessel: message.vessel,
                wharf: state.wharfLabel(message.wharf),
              })
            : message.message
        );
        alerts.raise(message);
        break;
      case "alert.raised":
        // A quarantine's alert carries its own sentence; a suspension's is told by
        // its handover.suspended event.
        if (message.alert.kind !== "suspension") {
          view.addFeed("alert", message.alert.message);
        }
        break;
      case "alert.acknowledged":
        alerts.acknowledge(message.alert);
        break;
      case "alert.closed":
        // The result behind it was corrected: the alert no longer stands.
        alerts.acknowledge(message.alert);
        view.addFeed("alert", message.reason);
        break;
      case "handover.approved":
        view.addFeed(
          "handover",
          fill(text.handoverApproved, { vessel: state.vesselOf(message.port_call), user: message.approved_by })
        );
        break;
      case "handover.suspended":
        view.addFeed(
          "alert",
          fill(text.handoverSuspended, { vessel: state.vesselOf(message.port_call), reason: message.reason })
        );
        break;
      case "staff.overdue":
        staffOverdue(message);
        break;
      case "kits.short":
        state.updateKitsShort(message);
        view.renderKitsShort();
        view.addFeed("kits", kitsShortLine(message, text));
        break;
      case "kits.restocked":
        state.dropKitsShort(message);
        view.renderKitsShort();
        view.addFeed("kits", kitsRestockedLine(message, text));
        break;
      default:
        break;
    }
  };
}

// The page drawn from the state: the connection status, the wharf's cards (or all my
// wharves' cards, by wharf) or the province's wharf rows and totals, the overdue KCS staff, the event feed.

import { kitsShortLine, overdueWhat } from "./words.js";

const FEED_LENGTH = 50;

export function createView(root, config, state, times) {
  const text = config.text;
  const isProvince = root.getAttribute("data-live") === "province";

  // --- Connection state ---------------------------------------------------------------

  const statusNode = root.querySelector("[data-live-status]");
  const statusText = root.querySelector("[data-live-text]");
  const loginLink = root.querySelector("[data-live-login]");

  function showConnection(connection) {
    statusNode.setAttribute("data-state", connection);
    root.classList.toggle("is-stale", connection !== "live");
    loginLink.hidden = connection !== "unauthenticated";
    if (connection === "reconnecting") {
      statusText.textContent = text.reconnecting + " " + text.stale;
    } else {
      statusText.textContent = text[connection];
    }
  }

  // --- Cards and wharf rows -----------------------------------------------------------

  function render(changedId) {
    if (isProvince) {
      renderWharves();
    } else {
      renderCards(changedId);
    }
  }

  function setField(node, name, value) {
    const field = node.querySelector('[data-field="' + name + '"]');
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

  function setTotal(name, value) {
    const node = root.querySelector('[data-total="' + name + '"]');
    if (node) {
      node.textContent = value;
    }
  }

  function newestFirst(a, b) {
    const byArrival = new Date(b.arrived_at) - new Date(a.arrived_at);
    return byArrival || b.id - a.id;
  }

  const cardList = root.querySelector("[data-cards]");
  const cardTemplate = root.querySelector("template[data-card-template]");
  // All my wharves: one list of cards per wharf, each in its section.
  const groupLists = root.querySelectorAll("[data-cards-for]");

  function renderCards(changedId) {
    const ordered = Array.from(state.calls.values()).sort(newestFirst);
    if (!groupLists.length) {
      renderCardList(cardList, ordered, changedId, root);
    } else {
      groupLists.forEach((list) => {
        const code = list.getAttribute("data-cards-for");
        const calls = ordered.filter((call) => call.wharf === code);
        renderCardList(list, calls, changedId, list.closest("[data-wharf-group]"));
        setField(list.closest("[data-wharf-group]"), "count", calls.length);
      });
    }
    setTotal("open", ordered.length);
  }

  function renderCardList(list, ordered, changedId, around) {
    const existing = new Map();
    list.querySelectorAll("[data-call]").forEach((node) => {
      existing.set(Number(node.getAttribute("data-call")), node);
    });
    ordered.forEach((call, index) => {
      let node = existing.get(call.id);
      if (!node) {
        node = cardTemplate.content.firstElementChild.cloneNode(true);
      }
      existing.delete(call.id);
      fillCard(node, call);
      if (list.children[index] !== node) {
        list.insertBefore(node, list.children[index] || null);
      }
      if (call.id === changedId) {
        flash(node);
      }
    });
    existing.forEach((node) => {
      node.remove();
    });
    around.querySelector("[data-cards-empty]").hidden = ordered.length > 0;
  }

  function fillCard(node, call) {
    node.setAttribute("data-call", call.id);
    node.setAttribute("data-status", call.status);
    node.setAttribute("href", config.callUrl.replace("/0/", "/" + call.id + "/"));
    setField(node, "registration", call.vessel.registration);
    setField(node, "name", call.vessel.name);
    const chip = setField(node, "status", config.statuses[call.status] || call.status);
    chip.className = "chip status-" + call.status;
    const arrived = setField(node, "arrived_at", times.dateTime(call.arrived_at));
    arrived.setAttribute("datetime", call.arrived_at);
    setField(node, "origin", call.origin);
    node.querySelector('[data-show="origin"]').hidden = !call.origin;
    // Flags turn while the page is open: an area declared, a violation recorded.
    node.querySelector('[data-flag="origin"]').hidden = !call.origin_flagged;
    node.querySelector('[data-flag="repeat"]').hidden = !call.repeat_offender;
    ["crew", "tested", "negative", "blocking"].forEach((name) => {
      setField(node, name, call.counts[name]);
    });
  }

  const wharfList = root.querySelector("[data-wharves]");
  const wharfTemplate = root.querySelector("template[data-wharf-template]");

  function bucketOf(status) {
    let found = null;
    Object.keys(config.buckets).forEach((bucket) => {
      if (config.buckets[bucket].indexOf(status) !== -1) {
        found = bucket;
      }
    });
    return found;
  }

  // Waiting for approval as on the approvals page (everyone on board cleared, handover
  // not approved yet): the server decides it, call.awaits_approval.
  function renderWharves() {
    const tallies = new Map();
    state.wharves.forEach((_wharf, code) => {
      tallies.set(code, { open: 0, cleared: 0, blocked: 0, awaiting: 0 });
    });
    const totals = { open: 0, blocked: 0, pending: 0 };
    state.calls.forEach((call) => {
      const tally = tallies.get(call.wharf);
      const bucket = bucketOf(call.status);
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

    const existing = new Map();
    wharfList.querySelectorAll("[data-wharf]").forEach((node) => {
      existing.set(node.getAttribute("data-wharf"), node);
    });
    let index = 0;
    state.wharves.forEach((wharf, code) => {
      let node = existing.get(code);
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
    existing.forEach((node) => {
      node.remove();
    });
    Object.keys(totals).forEach((name) => {
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
    Object.keys(tally).forEach((name) => {
      const count = node.querySelector('[data-count="' + name + '"]');
      if (count.textContent !== String(tally[name])) {
        count.textContent = tally[name];
        flash(node);
      }
    });
  }

  // --- Overdue KCS staff --------------------------------------------------------------

  const overdueList = root.querySelector("[data-overdue-list]");
  const overdueTemplate = root.querySelector("template[data-overdue-template]");

  function renderOverdue() {
    if (!overdueList) {
      return; // the province overview lists no staff
    }
    overdueList.textContent = "";
    state.overdue.forEach((entry) => {
      const node = overdueTemplate.content.firstElementChild.cloneNode(true);
      node.setAttribute("data-overdue", entry.id_number);
      setField(node, "full_name", entry.full_name);
      setField(node, "id_number", entry.id_number);
      setField(node, "station", entry.station);
      setField(node, "what", overdueWhat(entry, text));
      setField(node, "due_by", times.shortDateTime(entry.due_by)).setAttribute("datetime", entry.due_by);
      overdueList.appendChild(node);
    });
    root.querySelector("[data-overdue-empty]").hidden = state.overdue.length > 0;
    setTotal("overdue", state.overdue.length);
  }

  // --- Stations and wharves short of rapid kits (rule R7) -----------------------------

  const kitsShort = root.querySelector("[data-kits-short]");

  function renderKitsShort() {
    const list = kitsShort.querySelector("[data-kits-short-list]");
    list.textContent = "";
    Array.from(state.kitsShort.values())
      .sort((a, b) => (a.runs_out_on < b.runs_out_on ? -1 : a.runs_out_on > b.runs_out_on ? 1 : 0))
      .forEach((entry) => {
        const item = document.createElement("li");
        item.setAttribute("data-kits-short-place", entry.place_kind + ":" + entry.code);
        item.textContent = kitsShortLine(entry, text);
        list.appendChild(item);
      });
    kitsShort.hidden = state.kitsShort.size === 0;
  }

  // --- The event feed -----------------------------------------------------------------

  const feed = root.querySelector("[data-feed]");

  function addFeed(kind, line) {
    const empty = feed.querySelector("[data-feed-empty]");
    if (empty) {
      empty.remove();
    }
    const item = document.createElement("li");
    item.className = "feed-item feed-" + kind;
    const time = document.createElement("time");
    const now = new Date();
    time.setAttribute("datetime", now.toISOString());
    time.textContent = times.clock(now);
    item.appendChild(time);
    item.appendChild(document.createTextNode(" " + line));
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > FEED_LENGTH) {
      feed.lastElementChild.remove();
    }
  }

  return { showConnection, render, renderOverdue, renderKitsShort, addFeed, listsStaff: Boolean(overdueList) };
}

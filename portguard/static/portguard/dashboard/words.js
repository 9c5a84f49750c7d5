// Words and times, as the server writes them.

// Fill a gettext template's "%(name)s" placeholders.
export function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_match, key) =>
    values[key] === undefined || values[key] === null ? "" : String(values[key])
  );
}

// Times in the page's zone (Vietnam time), whatever the phone's zone.
export function createTimes(timeZone) {
  const dateParts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });

  function parts(value) {
    const out = {};
    dateParts.formatToParts(new Date(value)).forEach((part) => {
      out[part.type] = part.value;
    });
    return out;
  }

  return {
    // "H:i d/m/Y", as the server renders it.
    dateTime(value) {
      const p = parts(value);
      return p.hour + ":" + p.minute + " " + p.day + "/" + p.month + "/" + p.year;
    },
    // "H:i d/m", for times within the last few days.
    shortDateTime(value) {
      const p = parts(value);
      return p.hour + ":" + p.minute + " " + p.day + "/" + p.month;
    },
    clock(value) {
      const p = parts(value);
      return p.hour + ":" + p.minute + ":" + p.second;
    },
  };
}

// A station or wharf short of rapid kits (a kits.short event or a snapshot's entry), in words.
export function kitsShortLine(entry, text) {
  const date = entry.runs_out_on.split("-");
  return fill(entry.place_kind === "station" ? text.kitsShortStation : text.kitsShortWharf, {
    code: entry.code,
    name: entry.name,
    left: entry.left,
    need: entry.need,
    days: entry.days,
    date: date[2] + "/" + date[1] + "/" + date[0],
  });
}

// A station or wharf covered again by a delivery or a count (a kits.restocked event), in words.
export function kitsRestockedLine(entry, text) {
  return fill(entry.place_kind === "station" ? text.kitsRestockedStation : text.kitsRestockedWharf, {
    code: entry.code,
    name: entry.name,
  });
}

// The test a KCS staff member is overdue for: "■ RT-PCR 12/08" or the rapid test's shift.
export function overdueWhat(entry, text) {
  const date = entry.date.split("-");
  const day = date[2] + "/" + date[1];
  if (entry.kind !== "rapid") {
    return "■ RT-PCR " + day;
  }
  return fill(text.overdueRapid, { shift: entry.shift, day: day });
}

// A time as the pages show it: HH:MM in the wharves' time zone (the phone may be set
// otherwise), with the day when it is not today.
const script = document.querySelector("script[data-pwa]");
const timeZone = (script && script.dataset.timeZone) || undefined;

export function formatTime(ms) {
  const day = new Intl.DateTimeFormat("vi-VN", { day: "2-digit", month: "2-digit", timeZone });
  const when = new Date(ms);
  const time = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }).format(when);
  return day.format(when) === day.format(new Date()) ? time : time + " " + day.format(when);
}

// A moment as a date-time input of the pages holds it: YYYY-MM-DDTHH:MM, wharves' time.
export function localInputValue(ms) {
  const parts = {};
  new Intl.DateTimeFormat("en-CA", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone,
  })
    .formatToParts(new Date(ms))
    .forEach(({ type, value }) => {
      parts[type] = value;
    });
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

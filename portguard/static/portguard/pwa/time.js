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

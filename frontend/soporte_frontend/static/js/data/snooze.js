// When a snoozed conversation comes back: the presets the agent picks from, and a custom
// time. Times are the agent's local time; the server receives them as ISO (UTC).
// Pure data: `now` is passed in.

const HOUR_MS = 3600 * 1000;
const LONGEST_DAYS = 365; // the server takes a snooze of at most a year
const MORNING_HOUR = 9;
const MONDAY = 1;

/** [{key, hasta: Date}]: in an hour, tomorrow at 9:00, next Monday at 9:00. */
export function snoozePresets(now) {
  const tomorrow = atMorning(now, 1);
  const daysToMonday = ((MONDAY - now.getDay() + 7) % 7) || 7;
  return [
    { key: "hora", hasta: new Date(now.getTime() + HOUR_MS) },
    { key: "manana", hasta: tomorrow },
    { key: "semana", hasta: atMorning(now, daysToMonday) },
  ];
}

function atMorning(now, daysAhead) {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + daysAhead, MORNING_HOUR, 0, 0, 0);
}

/** The latest time a snooze may last until. */
export function latestSnooze(now) {
  return new Date(now.getTime() + LONGEST_DAYS * 24 * HOUR_MS);
}

/** A custom time from a datetime-local input ("2025-11-28T10:30", local time): the Date,
 * or null when it is empty, not a time, not in the future, or more than a year ahead. */
export function customSnooze(value, now) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value ?? "");
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number);
  const when = new Date(year, month - 1, day, hour, minute);
  return when > now && when <= latestSnooze(now) ? when : null;
}

/** A Date as a datetime-local input's value (local time, to the minute). */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

import type { BlackoutWindow, Weekday } from './types.ts';

/**
 * Blackout windows: periods in which no retrain may start.
 *
 * Deliberately simpler than cron: weekly windows ("sat–sun all day", "mon–fri 09:00–17:00 in
 * Europe/Berlin") and absolute date ranges (code freezes). Local time is computed with the
 * ECMAScript `Intl` API, which is part of the language (not a Node built-in) and gives the same
 * answer for the same instant, so this stays deterministic inside Temporal workflow code.
 */

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const INTL_WEEKDAY: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Step used to find when a weekly blackout ends: 5-minute boundaries, exact for windows written in multiples of 5 minutes. */
const SCAN_STEP_MS = 5 * 60_000;
/** A weekly blackout can last at most a week; scan a little longer than that. */
const SCAN_LIMIT_MS = 8 * 86_400_000;

/** Local weekday and minute of day of `instantMs` in `timeZone`. */
export function localTime(instantMs: number, timeZone: string): { weekday: Weekday; minuteOfDay: number } {
  let fmt = formatters.get(timeZone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, fmt);
  }
  let weekday: Weekday = 'mon';
  let hour = 0;
  let minute = 0;
  for (const part of fmt.formatToParts(new Date(instantMs))) {
    if (part.type === 'weekday') weekday = INTL_WEEKDAY[part.value] ?? 'mon';
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minuteOfDay: hour * 60 + minute };
}

/** Minutes since midnight of "HH:MM" ("24:00" is 1440). */
export function clockMinutes(text: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (match === null) throw new Error(`expected a time like "09:30", got ${JSON.stringify(text)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function nextWeekday(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 1) % 7] ?? 'mon';
}

/** Whether `window` covers the instant `nowMs`. */
export function inBlackoutWindow(window: BlackoutWindow, nowMs: number): boolean {
  if (window.kind === 'dates') return nowMs >= Date.parse(window.start) && nowMs < Date.parse(window.end);
  const { weekday, minuteOfDay } = localTime(nowMs, window.timeZone);
  const from = clockMinutes(window.from);
  const to = clockMinutes(window.to);
  if (from < to) return window.days.includes(weekday) && minuteOfDay >= from && minuteOfDay < to;
  // Wraps past midnight: the evening of a listed day and the early hours of the day after it.
  if (window.days.includes(weekday) && minuteOfDay >= from) return true;
  return window.days.some((d) => nextWeekday(d) === weekday) && minuteOfDay < to;
}

/** The first window covering `nowMs` and the instant retrains may start again, or `null` when none covers it. */
export function activeBlackout(
  windows: readonly BlackoutWindow[],
  nowMs: number,
): { window: BlackoutWindow; until: number } | null {
  const active = windows.find((w) => inBlackoutWindow(w, nowMs));
  if (active === undefined) return null;
  let t = nowMs;
  while (t - nowMs < SCAN_LIMIT_MS && windows.some((w) => inBlackoutWindow(w, t))) {
    const dateEnds = windows
      .filter((w) => w.kind === 'dates' && inBlackoutWindow(w, t))
      .map((w) => (w.kind === 'dates' ? Date.parse(w.end) : t));
    t = Math.max(Math.floor(t / SCAN_STEP_MS) * SCAN_STEP_MS + SCAN_STEP_MS, ...dateEnds);
  }
  return { window: active, until: t };
}

/** A short human description of a blackout window, for decision reasons. */
export function describeBlackout(window: BlackoutWindow): string {
  const label = window.label !== undefined ? ` (${window.label})` : '';
  if (window.kind === 'dates') return `blackout ${window.start} to ${window.end}${label}`;
  return `blackout ${window.days.join(',')} ${window.from}–${window.to} ${window.timeZone}${label}`;
}

/**
 * The one way halflife writes durations, instants and money in the texts people read: decision
 * reasons, the economics statement, `halflife explain`, CLI tables and (mirrored in
 * dashboards/web/util.js, checked against this file by a unit test) the dashboard.
 *
 * Pure and deterministic — decision reasons are written in workflow code: no clock, no locale,
 * no time zone but UTC (the zone is always named).
 */
import { HOUR_MS, tryParseDuration } from '../policy/duration.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * HOUR_MS;

/**
 * A duration as a person says it, to about two significant units: "0.4 s", "45 s",
 * "2 min 30 s", "12 min", "1 h 5 min", "3 d 4 h", "120 d". Negative durations get a minus sign;
 * an infinite one reads "forever".
 */
export function formatDuration(ms: number): string {
  if (Number.isNaN(ms)) return '—';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (!Number.isFinite(ms)) return 'forever';
  const seconds = ms / SECOND;
  if (seconds === 0) return '0 s';
  if (seconds < 0.05) return '< 0.1 s';
  if (seconds < 9.95) return `${trimZero(seconds.toFixed(1))} s`;
  if (seconds < 59.5) return `${Math.round(seconds)} s`;
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 10 * 60) return pair(Math.floor(wholeSeconds / 60), 'min', wholeSeconds % 60, 's');
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return pair(Math.floor(minutes / 60), 'h', minutes % 60, 'min');
  const hours = Math.round(ms / HOUR_MS);
  if (hours < 100 * 24) return pair(Math.floor(hours / 24), 'd', hours % 24, 'h');
  return `${Math.round(ms / DAY)} d`;
}

/** Hours (as the decay fit and economics count age) in {@link formatDuration}'s form. */
export function formatHours(hours: number): string {
  return formatDuration(hours * HOUR_MS);
}

/**
 * An estimated duration in hours (a half-life, a time to an SLO breach), in one unit chosen by
 * its size — minutes under an hour, hours under three days, days beyond — to three significant
 * figures at most, with its interval in the same unit when given: "24.2 h (90% CI 20.1–30.4 h)",
 * "42 min", "4.5 d (90% CI 3.1 d–∞)". An estimate's precision is its interval's, so it is not
 * split into "24 h 12 min".
 */
export function formatEstimateHours(
  hours: number,
  interval?: { lower: number; upper: number | null; level?: number } | null,
): string {
  if (!Number.isFinite(hours)) return hours > 0 ? 'never' : '—';
  const [unit, per] = hours < 1 ? (['min', 1 / 60] as const) : hours < 72 ? (['h', 1] as const) : (['d', 24] as const);
  const figure = (h: number): string => {
    const v = h / per;
    return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  };
  const text = `${figure(hours)} ${unit}`;
  if (!interval) return text;
  const level = `${Math.round((interval.level ?? 0.9) * 100)}% CI`;
  return interval.upper === null
    ? `${text} (${level} ${figure(interval.lower)} ${unit}–∞)`
    : `${text} (${level} ${figure(interval.lower)}–${figure(interval.upper)} ${unit})`;
}

/** A policy duration ("2m", "6h", "1.5d") in {@link formatDuration}'s form; other text is returned as is. */
export function formatDurationText(text: string): string {
  const ms = tryParseDuration(text);
  return ms === null ? text : formatDuration(ms);
}

/**
 * An instant as "2026-12-04 13:45:10 UTC" (24-hour clock, the zone named). Accepts epoch
 * milliseconds or an ISO 8601 string; anything else is returned as text.
 */
export function formatInstant(at: number | string | null | undefined): string {
  if (at === null || at === undefined || at === '') return '—';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Money in the policy's unit: whole numbers from 100 up and for whole amounts, else two decimals ("-43", "12.50", "3714", "0"). */
export function formatMoney(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(2);
  return text === '-0' || text === '-0.00' ? text.slice(1) : text;
}

/** A count with its noun, singular or plural: "1 retrain", "3 retrains". */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : pluralForm}`;
}

function pair(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

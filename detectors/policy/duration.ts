/**
 * Durations as people write them in policies: one positive number and one unit
 * (`ms`, `s`, `m`, `h`, `d`, `w`), e.g. "90s", "30m", "6h", "1.5d", "2w". One unit only, so a
 * duration reads unambiguously in a review and in a decision's provenance.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The pattern every duration string must match (shared with the JSON Schema). */
export const DURATION_PATTERN = '^(?:\\d+(?:\\.\\d+)?)(?:ms|s|m|h|d|w)$';
const DURATION_RE = new RegExp(DURATION_PATTERN);

/** Milliseconds in `text`, or `null` when it is not a duration like "6h" or "2d". */
export function tryParseDuration(text: string): number | null {
  if (!DURATION_RE.test(text)) return null;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text);
  if (match === null) return null;
  const unit = match[2] as keyof typeof UNIT_MS;
  const ms = Number(match[1]) * UNIT_MS[unit];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** Milliseconds in `text`; throws naming the expected form when it is not a duration. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === null) throw new Error(`expected a duration like "6h" or "2d", got ${JSON.stringify(text)}`);
  return ms;
}

/** Hours in `text` (see {@link parseDuration}). */
export function durationHours(text: string): number {
  return parseDuration(text) / UNIT_MS.h;
}

export const HOUR_MS = UNIT_MS.h;

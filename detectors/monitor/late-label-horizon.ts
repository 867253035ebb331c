/**
 * The late-label horizon: how long after a window closes its labels can still arrive. Windows
 * that closed longer ago than that before the last decision are mature — their realised quality
 * is final — so a tick no longer asks for their late labels (whose read would otherwise cost the
 * events of every kept window on every tick, growing with history) and, in production and the
 * backtest alike, counts none for them.
 *
 * "auto" (the default) sizes it from the model's own labels: each maturing window records how
 * many of its labels arrived by what delay (label arrival − event time, in half-octave buckets:
 * the window's own labels at their p99 delay, late ones at the longest delay they can have had),
 * and the horizon is the p99 over the kept windows × {@link AUTO_HORIZON_SAFETY}, at least
 * {@link AUTO_HORIZON_MIN_CADENCES} cadences, at most every kept window. Until
 * {@link AUTO_HORIZON_MIN_LABELS} delays are seen (a p99 needs about a hundred) every kept
 * window keeps receiving late labels, as before the horizon existed.
 *
 * What auto cannot see: labels that arrive only after the horizon. Labels arriving near its edge
 * push it out (the safety factor), so a tail that grows is followed; a model whose labels come
 * in two far-apart waves (most in seconds, some a day later) sets a duration instead.
 */
import { formatDuration, formatInstant } from '../texts/format.ts';
import type { LateLabelHorizon, MaturingWindow } from './types.ts';

export type { LateLabelHorizon };

/** The label delay quantile auto sizes the horizon from. */
export const AUTO_HORIZON_QUANTILE = 0.99;
/** Factor on the observed quantile: labels near the horizon's edge push it out. */
export const AUTO_HORIZON_SAFETY = 2;
/** Fewest cadences auto allows (a window's last labels settle after the next window closes). */
export const AUTO_HORIZON_MIN_CADENCES = 2;
/** Delays auto needs before it trusts a p99 (fewer: every kept window stays open). */
export const AUTO_HORIZON_MIN_LABELS = 100;

/** Buckets per doubling of the delay: an upper edge overstates a delay by at most √2. */
const BUCKETS_PER_OCTAVE = 2;

/** The policy's setting: "auto" or a duration in milliseconds. */
export type LateLabelHorizonSetting = 'auto' | number;

/** Half-octave bucket of a delay: bucket b holds delays in (2^((b−1)/2), 2^(b/2)] seconds. */
export function delayBucket(delayMs: number): number {
  const seconds = Math.max(1, delayMs / 1000);
  return Math.ceil(BUCKETS_PER_OCTAVE * Math.log2(seconds) - 1e-9);
}

/** The longest delay (ms) a bucket holds. */
export function bucketUpperMs(bucket: number): number {
  return 1000 * 2 ** (bucket / BUCKETS_PER_OCTAVE);
}

/** `labels` labels with delay up to `delayMs` added to a window's delay record. Returns a new object. */
export function addDelays(window: MaturingWindow, delayMs: number, labels: number): MaturingWindow {
  if (!(labels > 0) || !Number.isFinite(delayMs)) return window;
  const bucket = delayBucket(delayMs);
  const delays = [...(window.labelDelays ?? [])];
  const i = delays.findIndex(([b]) => b === bucket);
  if (i >= 0) delays[i] = [bucket, (delays[i] as [number, number])[1] + labels];
  else delays.push([bucket, labels]);
  delays.sort((a, b) => a[0] - b[0]);
  return { ...window, labelDelays: delays };
}

/**
 * The horizon for the next tick: the policy's duration, or auto from the maturing windows' delay
 * records; null while auto has seen too few delays (every kept window stays open). A cadence is
 * the shortest kept window (coalesced windows are longer).
 */
export function lateLabelHorizon(
  maturing: readonly MaturingWindow[],
  setting: LateLabelHorizonSetting,
): LateLabelHorizon | null {
  if (setting !== 'auto') return { ms: setting, source: { kind: 'policy' } };
  const counts = new Map<number, number>();
  let total = 0;
  for (const m of maturing)
    for (const [bucket, labels] of m.labelDelays ?? []) {
      counts.set(bucket, (counts.get(bucket) ?? 0) + labels);
      total += labels;
    }
  if (total < AUTO_HORIZON_MIN_LABELS || maturing.length === 0) return null;
  let seen = 0;
  let p99Ms = 0;
  for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(bucket) as number;
    p99Ms = bucketUpperMs(bucket);
    if (seen >= AUTO_HORIZON_QUANTILE * total) break;
  }
  const cadenceMs = Math.min(...maturing.map((m) => m.end - m.start));
  const keptMs = (maturing.at(-1) as MaturingWindow).end - (maturing[0] as MaturingWindow).start;
  const wanted = AUTO_HORIZON_SAFETY * p99Ms;
  const low = AUTO_HORIZON_MIN_CADENCES * cadenceMs;
  const ms = Math.min(Math.max(wanted, low), Math.max(keptMs, low));
  const clamped = ms > wanted ? 'min' : ms < wanted ? 'max' : null;
  return { ms, source: { kind: 'auto', p99Ms, clamped } };
}

/**
 * Whether labels arriving after `since` (the previous decision's arrival cut) can still be for
 * `window`: its events are before its end, so a label within the horizon arrives before end + horizon.
 * No horizon: every kept window can.
 */
export function insideLateLabelHorizon(
  window: { end: number },
  since: number,
  horizon: LateLabelHorizon | null | undefined,
): boolean {
  return !horizon || window.end + horizon.ms > since;
}

/**
 * The earlier windows a tick asks late labels for (what the ModelMonitor sends as
 * `lateLabels.windows`): the kept windows that closed by `before` (the window being read) and,
 * when the horizon `applies` (the workflow's marker), are inside it.
 */
export function lateLabelWindows(
  maturing: readonly MaturingWindow[],
  before: number,
  since: number,
  horizon: LateLabelHorizon | null | undefined,
  applies: boolean,
): { start: number; end: number }[] {
  return maturing
    .filter((m) => m.end <= before && (!applies || insideLateLabelHorizon(m, since, horizon)))
    .map((m) => ({ start: m.start, end: m.end }));
}

/**
 * The tick's words for the windows the horizon closed, e.g. "windows before 2026-12-06 04:10 UTC
 * mature (label delay p99 45 s × 2)"; null when every kept window is still inside it.
 */
export function describeMatureWindows(
  maturing: readonly MaturingWindow[],
  since: number,
  horizon: LateLabelHorizon | null | undefined,
): string | null {
  if (!horizon) return null;
  const mature = maturing.filter((m) => !insideLateLabelHorizon(m, since, horizon));
  if (mature.length === 0) return null;
  const before = since - horizon.ms;
  const why =
    horizon.source.kind === 'policy'
      ? `late-label horizon ${formatDuration(horizon.ms)}, policy evidence.lateLabelHorizon`
      : horizon.source.clamped === 'min'
        ? `label delay p99 ${formatDuration(horizon.source.p99Ms)} × ${AUTO_HORIZON_SAFETY}, at least ${AUTO_HORIZON_MIN_CADENCES} cadences: ${formatDuration(horizon.ms)}`
        : horizon.source.clamped === 'max'
          ? `label delay p99 ${formatDuration(horizon.source.p99Ms)} × ${AUTO_HORIZON_SAFETY}, at most the kept windows: ${formatDuration(horizon.ms)}`
          : `label delay p99 ${formatDuration(horizon.source.p99Ms)} × ${AUTO_HORIZON_SAFETY}`;
  return `windows before ${formatInstant(before)} mature (${why})`;
}

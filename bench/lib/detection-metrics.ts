/**
 * Detection quality against known change points (pure; used by bench/detection.ts).
 *
 * Matching rule. Change i, centred at `position` with sigmoid `width` (0 = abrupt), owns the
 * window [position − ⌊width/2⌋, position + horizon), cut short where the next change's window
 * begins (windows never overlap). The change is *detected* when a detection falls in its window;
 * its delay is (first such detection − position) — negative only for a gradual change caught
 * before its centre. Further detections inside the same window are *extra* detections (reported,
 * not counted as false alarms). A detection in no window is a *false alarm*. A change with no
 * detection in its window is *missed*. False alarms are normalised per 10,000 events of the
 * whole stream.
 */

export interface TrueChange {
  /** Event index at the centre of the change. */
  position: number;
  /** 0 for abrupt; otherwise the sigmoid width in events. @default 0 */
  width?: number;
}

export interface DetectionMatch {
  changes: number;
  detected: number;
  missed: number;
  /** Delay of each detected change, in the order of the changes. */
  delays: number[];
  falseAlarms: number;
  extraDetections: number;
  /** Events in the stream (the false-alarm denominator). */
  length: number;
}

/** Windows owned by each change under the matching rule above: [start, end). */
export function changeWindows(changes: readonly TrueChange[], horizon: number): { start: number; end: number }[] {
  if (!(horizon > 0)) throw new RangeError('horizon must be > 0');
  const starts = changes.map((c) => c.position - Math.floor((c.width ?? 0) / 2));
  for (let i = 1; i < starts.length; i++) {
    if ((starts[i] as number) <= (starts[i - 1] as number))
      throw new RangeError('changes must be in increasing position');
  }
  return changes.map((c, i) => {
    const next = starts[i + 1];
    const end = c.position + horizon;
    return { start: starts[i] as number, end: next === undefined ? end : Math.min(end, next) };
  });
}

/** Match detection indices (any order) against the true changes of a stream of `length` events. */
export function matchDetections(
  changes: readonly TrueChange[],
  detections: readonly number[],
  horizon: number,
  length: number,
): DetectionMatch {
  const windows = changeWindows(changes, horizon);
  const first: (number | undefined)[] = windows.map(() => undefined);
  let falseAlarms = 0;
  let extraDetections = 0;
  for (const t of [...detections].sort((a, b) => a - b)) {
    const i = windows.findIndex((w) => t >= w.start && t < w.end);
    if (i < 0) falseAlarms += 1;
    else if (first[i] === undefined) first[i] = t;
    else extraDetections += 1;
  }
  const delays: number[] = [];
  first.forEach((t, i) => {
    if (t !== undefined) delays.push(t - (changes[i] as TrueChange).position);
  });
  return {
    changes: changes.length,
    detected: delays.length,
    missed: changes.length - delays.length,
    delays,
    falseAlarms,
    extraDetections,
    length,
  };
}

export interface DetectionSummary {
  changes: number;
  detected: number;
  missed: number;
  /** Mean delay over detected changes; null when none was detected. */
  meanDelay: number | null;
  medianDelay: number | null;
  falseAlarms: number;
  falseAlarmsPer10k: number;
  extraDetections: number;
  events: number;
}

/** Pool several matches (e.g. seeds of one scenario): delays pooled, false alarms per 10k of all events. */
export function summarizeMatches(matches: readonly DetectionMatch[]): DetectionSummary {
  const delays = matches.flatMap((m) => m.delays).sort((a, b) => a - b);
  const sum = (f: (m: DetectionMatch) => number) => matches.reduce((s, m) => s + f(m), 0);
  const events = sum((m) => m.length);
  const falseAlarms = sum((m) => m.falseAlarms);
  const n = delays.length;
  const median =
    n === 0
      ? null
      : n % 2 === 1
        ? (delays[(n - 1) / 2] as number)
        : ((delays[n / 2 - 1] as number) + (delays[n / 2] as number)) / 2;
  return {
    changes: sum((m) => m.changes),
    detected: sum((m) => m.detected),
    missed: sum((m) => m.missed),
    meanDelay: n === 0 ? null : delays.reduce((s, d) => s + d, 0) / n,
    medianDelay: median,
    falseAlarms,
    falseAlarmsPer10k: events === 0 ? 0 : (falseAlarms / events) * 10_000,
    extraDetections: sum((m) => m.extraDetections),
    events,
  };
}

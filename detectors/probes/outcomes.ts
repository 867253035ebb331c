/**
 * Did this model's past retrains pay? For each pair of consecutive versions the monitor keeps
 * quality points of, the new version's first windows against the old version's last windows:
 * a gain of at least 2 standard errors helped, one under 1 did not (in between: unknown). This
 * is the measured base rate the `before-retrain` probe weighs (evidence.ts).
 */
export interface OutcomePoint {
  version: string;
  quality: number;
  weight: number;
  source: 'realised' | 'estimated';
  /** Start of the window the point measures (points without it are ignored). */
  start?: number;
}

/** Windows pooled on each side of a version change. */
const SIDE_POINTS = 3;

export function retrainOutcomes(points: readonly OutcomePoint[]): { helped: number; didNotHelp: number } {
  const byVersion = new Map<string, OutcomePoint[]>();
  for (const p of points) {
    if (p.source !== 'realised' || p.start === undefined || !Number.isFinite(p.quality)) continue;
    byVersion.set(p.version, [...(byVersion.get(p.version) ?? []), p]);
  }
  const versions = [...byVersion.values()]
    .map((ps) => [...ps].sort((a, b) => (a.start as number) - (b.start as number)))
    .sort((a, b) => (a[0]?.start as number) - (b[0]?.start as number));
  let helped = 0;
  let didNotHelp = 0;
  for (let i = 1; i < versions.length; i++) {
    const before = pool((versions[i - 1] as OutcomePoint[]).slice(-SIDE_POINTS));
    const after = pool((versions[i] as OutcomePoint[]).slice(0, SIDE_POINTS));
    if (before === null || after === null) continue;
    const p = Math.min(0.99, Math.max(0.01, (before.quality + after.quality) / 2));
    const se = Math.sqrt(p * (1 - p) * (1 / before.events + 1 / after.events));
    const z = (after.quality - before.quality) / se;
    if (z >= 2) helped++;
    else if (z < 1) didNotHelp++;
  }
  return { helped, didNotHelp };
}

function pool(points: readonly OutcomePoint[]): { quality: number; events: number } | null {
  const events = points.reduce((s, p) => s + p.weight, 0);
  if (!(events > 0)) return null;
  return { quality: points.reduce((s, p) => s + p.weight * p.quality, 0) / events, events };
}

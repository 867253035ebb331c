/**
 * A label look-up's batch split by label time (ingest-repository.ts `existingLabelIds`): each
 * cluster is looked up bounded by its own first and last label time, so a batch of today's labels
 * with one redelivered from last month reads two narrow ranges, not the month between them (which
 * the engine read by event id: granules of the whole table).
 */
export interface LabelTimeClusterOptions {
  /** Gaps between consecutive label times shorter than this never split a cluster (ms). @default 600000 (10 minutes) */
  minGapMs: number;
  /** Most clusters (one look-up each): the largest gaps split first. @default 16 */
  maxClusters: number;
}

export const LABEL_TIME_CLUSTER_DEFAULTS: Readonly<LabelTimeClusterOptions> = Object.freeze({
  minGapMs: 600_000,
  maxClusters: 16,
});

/** The labels in time order, split at the largest gaps between label times (at most `maxClusters` clusters). */
export function labelTimeClusters<Label extends { labelTs: number }>(
  labels: readonly Label[],
  options: Partial<LabelTimeClusterOptions> = {},
): Label[][] {
  const o = { ...LABEL_TIME_CLUSTER_DEFAULTS, ...options };
  if (!(o.maxClusters >= 1))
    throw new RangeError(`labelTimeClusters: maxClusters must be at least 1, got ${o.maxClusters}`);
  const byTime = [...labels].sort((a, b) => a.labelTs - b.labelTs);
  if (byTime.length === 0) return [];
  const gaps: { at: number; gap: number }[] = [];
  for (let i = 1; i < byTime.length; i++) {
    const gap = byTime[i]!.labelTs - byTime[i - 1]!.labelTs;
    if (gap > o.minGapMs) gaps.push({ at: i, gap });
  }
  const splits = gaps
    .sort((a, b) => b.gap - a.gap)
    .slice(0, o.maxClusters - 1)
    .map((g) => g.at)
    .sort((a, b) => a - b);
  const clusters: Label[][] = [];
  let from = 0;
  for (const at of [...splits, byTime.length]) {
    clusters.push(byTime.slice(from, at));
    from = at;
  }
  return clusters;
}

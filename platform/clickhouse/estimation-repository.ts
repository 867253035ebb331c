/**
 * The window query of label-free estimation: a window's scores grouped as its reference's
 * estimator asks (detectors/quality/cbpe-groups.ts: isotonic step × side of the decision threshold
 * × equal-width score bin), each group with its events, Σ score and Σ score², and the events
 * outside the reference's score range. O(steps + bins) rows come back, never scores, and the
 * estimate from them equals the one from every score (the keys are those `scoreGroupKey` computes).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { EstimationGrouping, ScoreGroup } from '../../detectors/quality/cbpe-groups.ts';
import { queryRows } from './client.ts';
import { floatArrayParam, num } from './sql-values.ts';
import { eventWindowSql } from './event-window.ts';
import type { TimeWindow } from './time-window.ts';

/** What the query needs: the grouping and the reference's score range. */
export interface EstimationQuery extends EstimationGrouping {
  referenceRange: [number, number];
}

export interface WindowScoreGroups {
  groups: ScoreGroup[];
  /** Events whose score is outside the reference's score range. */
  outside: number;
}

/** The model's scored events of `window`, grouped for estimation. Throws RangeError on a bad grouping. */
export async function estimationScoreGroups(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  query: EstimationQuery,
): Promise<WindowScoreGroups> {
  if (!(Number.isInteger(query.bins) && query.bins >= 1 && query.bins <= 10_000))
    throw new RangeError(`estimation bins ${query.bins} must be an integer between 1 and 10000`);
  if (!(query.threshold >= 0 && query.threshold <= 1))
    throw new RangeError(`decision threshold ${query.threshold} must be between 0 and 1`);
  // The window cut in PREWHERE before FINAL (event-window.ts): reads the window's rows, not the partition's.
  const events = eventWindowSql({ modelId, start: window.start, end: window.end });
  const rows = await queryRows<{
    bin: number;
    step: string | number;
    above: number;
    events: string | number;
    score_sum: number;
    score_sq: number;
    outside: string | number;
  }>(
    client,
    `SELECT least(toUInt32(floor(s * {bins:UInt32})), {bins:UInt32} - 1) AS bin,
            arrayCount(u -> u < s, {steps:Array(Float64)}) AS step,
            s >= {threshold:Float64} AS above,
            count() AS events, sum(s) AS score_sum, sum(s * s) AS score_sq,
            countIf(s < {low:Float64} OR s > {high:Float64}) AS outside
     FROM (SELECT assumeNotNull(prediction_score) AS s FROM ${events.source}
           WHERE prediction_score IS NOT NULL)
     GROUP BY bin, step, above${events.settings}`,
    {
      ...events.params,
      bins: query.bins,
      steps: floatArrayParam(query.steps),
      threshold: query.threshold,
      low: query.referenceRange[0],
      high: query.referenceRange[1],
    },
  );
  let outside = 0;
  const groups = rows.map((r) => {
    outside += num(r.outside);
    return {
      bin: Number(r.bin),
      step: Number(r.step),
      above: Number(r.above) === 1,
      events: num(r.events),
      scoreSum: Number(r.score_sum),
      scoreSquareSum: Number(r.score_sq),
    };
  });
  return { groups, outside };
}

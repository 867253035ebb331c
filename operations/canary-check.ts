/**
 * Whether a canary is healthy: the candidate's serving since the traffic split (events, failures
 * that fell back to the champion, saturated scores, mean-score shift, p99 latency, log loss on
 * labelled events) against the champion's over the same time. A multiclass or regression model
 * (its declared kind) has no score: its quality check is the log loss of its class
 * probabilities, or the RMSE of its predictions, on labelled canary events.
 */
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { LOG_LOSS_EPSILON } from '../detectors/quality/probabilistic.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import {
  versionLossMetrics,
  versionServingMetrics,
  type VersionLossMetrics,
  type VersionServingMetrics,
} from '../platform/clickhouse/serving-metrics-repository.ts';

export interface CanaryCheckInput {
  modelId: string;
  candidateVersion: string;
  championVersion?: string;
  /** Epoch ms or ISO-8601: when the split started. */
  since: number | string;
  /** Fewer candidate events than this is not healthy (cannot be verified). */
  minEvents: number;
  /** Largest allowed candidate − champion log loss on labelled canary events. @default 0.05 */
  maxLogLossIncrease?: number;
  /**
   * Largest allowed |candidate mean score − champion mean score| — a label-free sign of a broken
   * model. A larger shift passes when labelled canary events vindicate it: the candidate's mean
   * score is at least as close to the observed positive rate as the champion's (plus
   * `calibrationTolerance`), as when the base rate itself moved and the candidate learned it.
   * @default 0.2
   */
  maxMeanScoreShift?: number;
  /** Slack, in the calibration-in-the-large comparison above. @default 0.02 */
  calibrationTolerance?: number;
  /** Largest share of candidate requests that failed and fell back to the champion. @default 0.01 */
  maxFallbackRate?: number;
  /** Largest candidate/champion p99 latency ratio. @default 2 */
  maxLatencyP99Ratio?: number;
  /** Fewest labelled events per version for the log-loss check. @default 100 */
  minLabelled?: number;
  /** Regression: largest allowed candidate RMSE / champion RMSE − 1 on labelled canary events. @default 0.1 */
  maxRmseIncrease?: number;
}

export interface CanaryCheckResult {
  healthy: boolean;
  reasons: string[];
  metrics: { candidate: VersionServingMetrics; champion: VersionServingMetrics | null };
  /** A multiclass or regression model's loss on labelled canary events (log loss; mean squared error). */
  loss?: { kind: 'multiclass' | 'regression'; candidate: VersionLossMetrics; champion: VersionLossMetrics | null };
}

export async function canaryCheck(clickhouse: ClickHouseClient, input: CanaryCheckInput): Promise<CanaryCheckResult> {
  const since = typeof input.since === 'number' ? input.since : Date.parse(input.since);
  const o = {
    maxLogLossIncrease: 0.05,
    maxMeanScoreShift: 0.2,
    calibrationTolerance: 0.02,
    maxFallbackRate: 0.01,
    maxLatencyP99Ratio: 2,
    minLabelled: 100,
    maxRmseIncrease: 0.1,
    ...input,
  };
  const kind = (await modelKindOf(clickhouse, input.modelId)).kind;
  const candidate = await versionServingMetrics(clickhouse, {
    modelId: input.modelId,
    version: input.candidateVersion,
    since,
  });
  // Candidate failures are served by the champion and marked fallback_from=<candidate>.
  const champion = input.championVersion
    ? await versionServingMetrics(clickhouse, {
        modelId: input.modelId,
        version: input.championVersion,
        since,
        fallbackOf: input.candidateVersion,
      })
    : null;
  const reasons: string[] = [];
  let healthy = true;
  const fail = (r: string) => {
    healthy = false;
    reasons.push(r);
  };
  if (candidate.events < input.minEvents)
    fail(
      `only ${candidate.events} events scored by ${input.candidateVersion} since the split; at least ${input.minEvents} are needed to judge the canary`,
    );
  const fallbacks = champion?.fallbacks ?? 0;
  const fallbackRate = candidate.events + fallbacks > 0 ? fallbacks / (candidate.events + fallbacks) : 0;
  if (fallbackRate > o.maxFallbackRate)
    fail(
      `${(fallbackRate * 100).toFixed(2)}% of the candidate's requests failed (> ${(o.maxFallbackRate * 100).toFixed(2)}%)`,
    );
  if (candidate.saturatedShare !== null && candidate.saturatedShare > 0.05)
    fail(`${(candidate.saturatedShare * 100).toFixed(1)}% of the candidate's scores are exactly 0 or 1`);
  if (champion && champion.events > 0) {
    if (
      candidate.meanScore !== null &&
      champion.meanScore !== null &&
      Math.abs(candidate.meanScore - champion.meanScore) > o.maxMeanScoreShift
    ) {
      const shift = `mean score ${candidate.meanScore.toFixed(3)} vs champion ${champion.meanScore.toFixed(3)}: shift above ${o.maxMeanScoreShift}`;
      const gap = calibrationGap(candidate, o.minLabelled);
      const championGap = calibrationGap(champion, o.minLabelled);
      if (gap === null || championGap === null)
        fail(`${shift}, and too few labelled canary events to tell a moved base rate from a broken model`);
      else if (gap > championGap + o.calibrationTolerance)
        fail(
          `${shift}; on labelled events the candidate's mean score is ${gap.toFixed(3)} from the positive rate, the champion's ${championGap.toFixed(3)}`,
        );
      else
        reasons.push(
          `${shift}, but the labels agree with it: the candidate's mean score is ${gap.toFixed(3)} from the positive rate ${(candidate.positiveRate as number).toFixed(3)}, the champion's ${championGap.toFixed(3)}`,
        );
    }
    if (
      candidate.latencyP99Ms !== null &&
      champion.latencyP99Ms !== null &&
      champion.latencyP99Ms > 0 &&
      candidate.latencyP99Ms / champion.latencyP99Ms > o.maxLatencyP99Ratio
    ) {
      fail(
        `p99 latency ${candidate.latencyP99Ms.toFixed(2)} ms is ${(candidate.latencyP99Ms / champion.latencyP99Ms).toFixed(2)}× the champion's (> ${o.maxLatencyP99Ratio}×)`,
      );
    }
    if (kind !== 'binary') {
      // Checked below, on the kind's own loss.
    } else if (
      candidate.labelled >= o.minLabelled &&
      champion.labelled >= o.minLabelled &&
      candidate.logLoss !== null &&
      champion.logLoss !== null
    ) {
      if (candidate.logLoss - champion.logLoss > o.maxLogLossIncrease)
        fail(
          `log loss ${candidate.logLoss.toFixed(4)} vs champion ${champion.logLoss.toFixed(4)} on labelled canary events`,
        );
      else
        reasons.push(
          `log loss ${candidate.logLoss.toFixed(4)} vs champion ${champion.logLoss.toFixed(4)} on labelled canary events`,
        );
    } else {
      reasons.push(
        `too few labelled canary events for a quality check (${candidate.labelled} / ${champion.labelled}; need ${o.minLabelled} each)`,
      );
    }
  }
  let loss: CanaryCheckResult['loss'];
  if (kind !== 'binary' && champion && champion.events > 0) {
    const of = (version: string) =>
      versionLossMetrics(clickhouse, { modelId: input.modelId, version, since, kind, eps: LOG_LOSS_EPSILON });
    loss = { kind, candidate: await of(input.candidateVersion), champion: await of(input.championVersion as string) };
    const a = loss.candidate;
    const b = loss.champion as VersionLossMetrics;
    if (a.labelled < o.minLabelled || b.labelled < o.minLabelled || a.meanLoss === null || b.meanLoss === null)
      reasons.push(
        `too few labelled canary events for a quality check (${a.labelled} / ${b.labelled}; need ${o.minLabelled} each)`,
      );
    else if (kind === 'multiclass') {
      const text = `log loss ${a.meanLoss.toFixed(4)} vs champion ${b.meanLoss.toFixed(4)} on labelled canary events`;
      if (a.meanLoss - b.meanLoss > o.maxLogLossIncrease) fail(text);
      else reasons.push(text);
    } else {
      const rmse = Math.sqrt(a.meanLoss);
      const championRmse = Math.sqrt(b.meanLoss);
      const text = `RMSE ${rmse.toPrecision(4)} vs champion ${championRmse.toPrecision(4)} on labelled canary events`;
      if (rmse > championRmse * (1 + o.maxRmseIncrease))
        fail(`${text} (more than ${Math.round(o.maxRmseIncrease * 100)}% above)`);
      else reasons.push(text);
    }
  }
  if (healthy) reasons.unshift(`${candidate.events} canary events, no regression found`);
  return { healthy, reasons, metrics: { candidate, champion }, ...(loss ? { loss } : {}) };
}

/** |mean score − positive rate| on a version's labelled events (calibration in the large), or null with too few labels. */
function calibrationGap(m: VersionServingMetrics, minLabelled: number): number | null {
  if (m.labelled < minLabelled || m.positiveRate === null || m.labelledMeanScore === null) return null;
  return Math.abs(m.labelledMeanScore - m.positiveRate);
}

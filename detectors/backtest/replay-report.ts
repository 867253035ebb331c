/**
 * A backtest's report from what its replay recorded: the policy-relative and the true cost (see
 * `BacktestCostModel`), with a retrain decided as the last window closed flagged as serving nothing.
 */
import type { RetrainPolicy } from '../policy/types.ts';
import type { BacktestReport } from './types.ts';

/** What the replay recorded: the report's own fields, and the policy, trainer and probes behind it. */
export interface ReplayRecord extends Pick<
  BacktestReport,
  | 'cadenceMs'
  | 'reference'
  | 'rows'
  | 'labelledRows'
  | 'decisions'
  | 'retrains'
  | 'failedRetrains'
  | 'windows'
  | 'versions'
  | 'costModel'
  | 'labelDelayMs'
> {
  policy: RetrainPolicy;
  trainer: string;
  /** Challenger probes started and the price of one; null when the kind runs none. */
  probes: { started: number; probeCost: number } | null;
}

export function backtestReport(record: ReplayRecord): BacktestReport {
  const { policy, costModel, decisions, windows, retrains } = record;
  const stalenessCost = costModel ? windows.reduce((s, w) => s + (w.stalenessCost ?? 0), 0) : null;
  const retrainCost = costModel ? retrains * (costModel.retrainCost + costModel.riskCost) : null;
  // A retrain decided as the last window closed serves nothing: flagged, and not charged in true cost.
  const lastEnd = windows.at(-1)?.end ?? null;
  let servingNothing = 0;
  for (const d of decisions)
    if (d.kind === 'retrain' && d.time === lastEnd && d.retrain) {
      d.retrain.servesNothing = true;
      servingNothing += 1;
    }
  const probes = record.probes?.started ?? 0;
  const probeCost = record.probes === null ? 0 : record.probes.started * record.probes.probeCost;
  const trueParts = costModel
    ? {
        staleness: windows.reduce((s, w) => s + (w.trueCost ?? 0), 0),
        retrains: (retrains - servingNothing) * (costModel.retrainCost + costModel.riskCost),
        retrainsServingNothing: servingNothing,
        unlabelledWindows: windows.filter((w) => w.hindsightQuality === null).length,
        probes,
        probeCost,
      }
    : null;
  return {
    model: policy.model,
    policy: { name: policy.name, version: policy.version, trigger: policy.trigger.kind },
    trainer: record.trainer,
    cadenceMs: record.cadenceMs,
    reference: record.reference,
    rows: record.rows,
    labelledRows: record.labelledRows,
    decisions,
    retrains,
    failedRetrains: record.failedRetrains,
    windows,
    versions: record.versions,
    costModel,
    stalenessCost,
    retrainCost,
    totalCost: stalenessCost !== null && retrainCost !== null ? stalenessCost + retrainCost : null,
    trueCost: trueParts === null ? null : trueParts.staleness + trueParts.retrains + trueParts.probeCost,
    trueCostParts: trueParts,
    labelDelayMs: record.labelDelayMs,
    probes,
  };
}

/**
 * The alert signals of a model, read off what the monitor already computed: its state after the
 * tick (windows, decay fit, approval), the last window's evaluation (failing checks, drifted
 * features), the one health rule's verdict, and the events the evaluator remembers (the last
 * failed promotion, serving's last report). Nothing is recomputed here.
 */
import { breakageDetails } from '../drift/data-quality.ts';
import type { MonitorState, WindowEvaluation } from '../monitor/types.ts';
import type { AlertMemory, AlertSignals } from './types.ts';

/** Windows the rules look back over at most (consecutive-window counts). */
const WINDOWS_KEPT = 24;

export interface MonitorAlertInputs {
  state: MonitorState;
  /** The last window's evaluation, or null before the first tick. */
  evaluation: WindowEvaluation | null;
  health: string;
  /** The monitor's quality SLO (`MonitorSettings.qualitySlo`). */
  slo: number | null;
  memory: AlertMemory;
  now: number;
}

export function monitorAlertSignals({ state, evaluation, health, slo, memory, now }: MonitorAlertInputs): AlertSignals {
  const approval = state.approval;
  return {
    modelId: state.modelId,
    version: state.version,
    at: now,
    health,
    windows: state.windows.slice(-WINDOWS_KEPT),
    slo,
    timeToBreachHours: state.decay?.timeToBreach?.hours ?? null,
    dataQualityAlerts: failingQualityChecks(evaluation),
    driftedFeatures: evaluation?.drift?.drifted_features ?? [],
    approval: {
      pending: approval.status === 'pending',
      requestedAt: approval.status === 'pending' ? approval.requestedAt : null,
    },
    promotionFailure: memory.promotionFailure,
    serving: memory.serving,
  };
}

/**
 * The checks that failed the last window: its breakage (shift and small windows do not fail a
 * window since rule revision 3), or every alert when it has none (earlier revisions failed a
 * window on any alert), or when its report predates the split.
 */
function failingQualityChecks(evaluation: WindowEvaluation | null): string[] {
  const report = evaluation?.dataQuality;
  if (!report) return [];
  const broken = report.checks ? breakageDetails(report) : [];
  return broken.length > 0 ? broken : report.alerts;
}

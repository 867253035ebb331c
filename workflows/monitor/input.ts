/**
 * What a ModelMonitor is started with and what it hands to its next run. Types only: the CLI,
 * the demo and the tests import them as well as the workflow.
 */
import type { AlertMemory } from '../../detectors/alerts/types.ts';
import type {
  MonitorReference,
  MonitorSettings,
  MonitorState,
  WindowEvaluation,
} from '../../detectors/monitor/types.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import type { MonitorStatus, PolicyRef } from '../messages.ts';
import type { RetrainSettings } from '../retrain.ts';

export interface ModelMonitorInput {
  modelId: string;
  policy: RetrainPolicy;
  policyRef: PolicyRef;
  /** How often a window closes and is evaluated, e.g. "1h". @default "1h" */
  cadence?: string;
  /** Wait after a window closes before evaluating it, for late events, e.g. "1m". @default "0s" */
  settle?: string;
  /** Continue-as-new after this many ticks even if Temporal does not suggest it yet (keeps histories short). @default 500 */
  maxTicksPerRun?: number;
  /**
   * Continue-as-new once the run's history has grown past this many bytes (runs with the
   * `bounded-run-history` marker). The worker keeps a cached run's history payloads in memory until
   * the run ends (~16 kB a tick at fleet shape: the decision's provenance, the window's read), so this
   * bounds what each monitor holds. Runs started on the consolidated marker end at a budget drawn per
   * run between half and all of it (detectors/monitor/schedule.ts `runHistoryBudget`), so a fleet does
   * not continue as new in one wave. @default 262144 (256 KiB)
   */
  maxRunHistoryBytes?: number;
  /** @default DEFAULT_MONITOR_SETTINGS (detectors/monitor/types.ts) */
  settings?: Partial<MonitorSettings>;
  /** @default DEFAULT_RETRAIN_SETTINGS (workflows/retrain.ts) */
  retrain?: Partial<RetrainSettings>;
  /** Carried across continue-as-new. @default undefined (a new monitor) */
  carried?: CarriedState;
}

/** What a monitor hands to its next run. */
export interface CarriedState {
  state: MonitorState;
  reference: MonitorReference | null;
  nextWindowStart: number;
  retrainSequence: number;
  lastDecision: MonitorStatus['lastDecision'];
  runs: number;
  /** Alerts firing and the events they remember. @default none firing */
  alerts?: AlertMemory;
  /** Windows due up to this time (missed while paused) are still being evaluated one by one. @default null */
  catchUpUntil?: number | null;
  /**
   * The last window's evaluation, so a forced retrain or an approval (and the alert rules) between a new run's
   * start and its first tick see the windows the runs before evaluated. @default null (runs before it)
   */
  lastEvaluation?: WindowEvaluation | null;
}

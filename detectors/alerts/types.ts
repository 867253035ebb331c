/**
 * Alert rules, the signals they are judged on, and what the evaluator remembers between ticks.
 * Plain JSON throughout: rules come from the retrain policy's `alerts` section (validated in
 * platform/alert-policy-schema.ts), signals from the monitor's state after a tick, and the memory
 * is carried by the ModelMonitor workflow across continue-as-new, so replaying a history
 * re-derives exactly the same alerts.
 */
import type { WindowSummary } from '../policy/state.ts';

/** A duration such as "30s", "10m" or "4h" (detectors/policy/duration.ts). */
export type DurationText = string;

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** Payload formats a receiver takes. */
export const ALERT_FORMATS = ['json', 'slack', 'alertmanager'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

/** The rule kinds, in the order the docs list them. */
export const ALERT_RULE_KINDS = [
  'health',
  'slo',
  'data-quality',
  'drift',
  'approval-pending',
  'promotion-failed',
  'serving-disagreement',
] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

/** Health states a `health` rule can alert on (detectors/monitor/health.ts). */
export const ALERTABLE_HEALTH = ['degraded', 'data-quality', 'drifting', 'unknown', 'paused'] as const;
export type AlertableHealth = (typeof ALERTABLE_HEALTH)[number];

/**
 * The name of an environment variable that holds a value halflife must never write down (a
 * webhook URL with its token, a bearer token, a signing key). Only the name is kept in the policy,
 * the workflow history and the alert records; the value is read when a message is sent.
 */
export interface FromEnvironment {
  env: string;
}

/** Where alerts go. */
export interface AlertReceiver {
  /** Name rules refer to, e.g. "oncall-slack". */
  name: string;
  /** Payload format: a generic JSON document, a Slack incoming-webhook message, or Alertmanager's API v2 alert list. */
  format: AlertFormat;
  /** The URL to POST to (for Alertmanager the full `.../api/v2/alerts` URL). */
  url: FromEnvironment;
  /** Sent as `Authorization: Bearer <token>`. @default none */
  token?: FromEnvironment;
  /** Key of the HMAC-SHA256 signature sent in `X-Halflife-Signature`. @default none (unsigned) */
  signingKey?: FromEnvironment;
  /** How long one attempt may take before it counts as failed. @default "10s" */
  timeout: DurationText;
  /**
   * Alertmanager only: how often a firing alert is sent again. Alertmanager resolves an alert its
   * client stops sending; each message says it ends 4 × this later unless sent again. @default "5m"
   */
  resendEvery: DurationText;
}

interface RuleBase {
  /** Identifies the rule in alert keys and records; unique within the policy. @default the kind */
  name: string;
  /** @default per kind: see {@link DEFAULT_SEVERITY} */
  severity: AlertSeverity;
  /** Receivers (by name) this rule notifies. @default every receiver of the policy */
  receivers?: string[];
}

/** Health left the healthy state; one alert per unhealthy state, so a change of state resolves one and fires another. */
export interface HealthRule extends RuleBase {
  kind: 'health';
  /** @default ["degraded", "data-quality", "drifting"] */
  states: AlertableHealth[];
}

/**
 * Quality below the monitor's SLO (`settings.qualitySlo`) for `consecutiveWindows` windows, or the
 * decay fit saying it is already below; and, with `within`, a predicted breach that close.
 */
export interface SloRule extends RuleBase {
  kind: 'slo';
  /** @default 1 */
  consecutiveWindows: number;
  /** Also alert (as a warning) when the decay fit predicts a breach within this long. @default none */
  within?: DurationText;
}

/** The windows failed their data-quality checks `consecutiveWindows` times in a row. */
export interface DataQualityRule extends RuleBase {
  kind: 'data-quality';
  /** @default 1 */
  consecutiveWindows: number;
}

/** Input drift in `consecutiveWindows` windows in a row: the dataset verdict, or a drifted share of at least `share`. */
export interface DriftRule extends RuleBase {
  kind: 'drift';
  /** @default 2 */
  consecutiveWindows: number;
  /** Count a window as drifted when this share of its features drifted (instead of the dataset verdict). @default none */
  share?: number;
}

/** A retrain has waited for a person's approval at least `after`. */
export interface ApprovalPendingRule extends RuleBase {
  kind: 'approval-pending';
  /** @default "0s" */
  after: DurationText;
}

/** A retrain failed or its canary was rolled back; resolved by the next promotion. */
export interface PromotionFailedRule extends RuleBase {
  kind: 'promotion-failed';
}

/** What serving runs disagrees with what the registry says should run. */
export interface ServingDisagreementRule extends RuleBase {
  kind: 'serving-disagreement';
}

export type AlertRule =
  | HealthRule
  | SloRule
  | DataQualityRule
  | DriftRule
  | ApprovalPendingRule
  | PromotionFailedRule
  | ServingDisagreementRule;

/** How a message is retried until a receiver takes it. */
export interface AlertRetry {
  /** Wait before the second attempt. @default "10s" */
  initialInterval: DurationText;
  /** Each wait is this many times the previous. @default 2 */
  backoffCoefficient: number;
  /** Longest wait between attempts. @default "10m" */
  maximumInterval: DurationText;
  /** Stop retrying a message this long after its first attempt (recorded as given up). @default "24h" */
  giveUpAfter: DurationText;
}

/** The `alerts` section of a retrain policy. */
export interface AlertPolicy {
  /** @default [] (alerts are recorded and shown, not sent) */
  receivers: AlertReceiver[];
  rules: AlertRule[];
  /** Send a firing alert again this often until it resolves. @default none */
  renotifyEvery?: DurationText;
  /** @default { initialInterval: "10s", backoffCoefficient: 2, maximumInterval: "10m", giveUpAfter: "24h" } */
  retry: AlertRetry;
}

export const DEFAULT_SEVERITY: Record<AlertRuleKind, AlertSeverity> = {
  health: 'warning',
  slo: 'critical',
  'data-quality': 'critical',
  drift: 'warning',
  'approval-pending': 'info',
  'promotion-failed': 'critical',
  'serving-disagreement': 'critical',
};

export const DEFAULT_ALERT_RETRY: AlertRetry = {
  initialInterval: '10s',
  backoffCoefficient: 2,
  maximumInterval: '10m',
  giveUpAfter: '24h',
};

// ---- signals -----------------------------------------------------------------------------------

/** How a retrain or a promotion ended, as the monitor learns it. */
export interface PromotionOutcome {
  outcome: 'promoted' | 'rejected' | 'rolled-back' | 'failed' | 'dark-launched';
  /** The version it was about (the challenger), when there was one. */
  version: string | null;
  reason: string;
  at: number;
  /** The retrain id, or who acted for a person's promotion or rollback. */
  source: string;
  /** What was tried: promoting `version`, or rolling production back from it. @default "promotion" */
  action?: 'promotion' | 'rollback';
}

/** What serving reports against the registry (from serving acknowledgements). */
export interface ServingReport {
  agrees: boolean;
  /** The version the registry wants served. */
  requested: string | null;
  /** The versions scorers acknowledged serving. */
  serving: string[];
  /** Why they disagree (a refused update, a scorer on an old version), in a sentence. */
  reason: string;
  at: number;
}

/** Everything the rules are judged on, built from the monitor's state after a tick or an event. */
export interface AlertSignals {
  modelId: string;
  version: string | null;
  /** When the signals were taken (epoch ms). */
  at: number;
  /** The one health rule's verdict (detectors/monitor/health.ts). */
  health: string;
  /** Recent windows, oldest first (the monitor's state). */
  windows: WindowSummary[];
  /** The monitor's quality SLO, or null when it has none. */
  slo: number | null;
  /** Hours until the decay fit crosses the SLO; 0 when it has; null when unknown or never. */
  timeToBreachHours: number | null;
  /** The last window's data-quality alerts ("x1: missing rate 0.4 vs reference 0.0"). */
  dataQualityAlerts: string[];
  /** The last window's drifted features. */
  driftedFeatures: string[];
  approval: { pending: boolean; requestedAt: number | null };
  /** The last failed or rolled-back retrain not yet followed by a promotion. */
  promotionFailure: PromotionOutcome | null;
  /** The last serving report, when serving reports to this monitor. */
  serving: ServingReport | null;
}

// ---- memory and transitions --------------------------------------------------------------------

/** An alert that fired and has not resolved. */
export interface FiringAlert {
  key: string;
  rule: string;
  kind: AlertRuleKind;
  severity: AlertSeverity;
  subject: string | null;
  since: number;
  /** The AlertEpisode workflow delivering it (its id). */
  episodeId: string;
  summary: string;
}

/** What the evaluator keeps between ticks (carried across continue-as-new). */
export interface AlertMemory {
  firing: Record<string, FiringAlert>;
  promotionFailure: PromotionOutcome | null;
  serving: ServingReport | null;
}

/** One alert as it is sent: what fired, for which model, why. */
export interface AlertNotice {
  key: string;
  episodeId: string;
  modelId: string;
  modelVersion: string | null;
  rule: string;
  kind: AlertRuleKind;
  severity: AlertSeverity;
  subject: string | null;
  summary: string;
  description: string;
  /** Figures behind it (quality, SLO, drifted features, failing checks...). */
  details: Record<string, unknown>;
  startsAt: number;
  /** Receiver names this alert goes to. */
  receivers: string[];
}

/** An alert that stopped firing. */
export interface AlertResolution {
  key: string;
  episodeId: string;
  at: number;
  /** Why, in a sentence ("drift cleared", "rule removed from the policy"). */
  reason: string;
}

export interface AlertEvaluation {
  memory: AlertMemory;
  fire: AlertNotice[];
  resolve: AlertResolution[];
}

// ---- what is sent --------------------------------------------------------------------------------

/** One message about an alert: its firing, a reminder while it fires, or its resolution. */
export interface AlertNotification {
  /** `<episode id>/<sequence>`: stable, so a retried record or send is recognised. */
  notificationId: string;
  /** 1 for the firing, then one more per reminder, and the resolution last. */
  sequence: number;
  type: 'firing' | 'renotify' | 'resolved';
  alert: AlertNotice;
  /** When it resolved and why (resolutions only). */
  resolvedAt: number | null;
  resolution: string | null;
  /** When the notification was made (workflow time). */
  notifiedAt: number;
  /** Who raised it: the monitor's workflow and run, and the policy whose rule fired. */
  source: { workflowId: string; runId: string; policy: { name: string; version: string; hash: string } | null };
}

/**
 * Each kind of alert rule as people and other tools see it: the `alertname` it carries in
 * Alertmanager and in the generated Prometheus rules (one name for both paths), and what it means.
 */
import type { AlertRuleKind } from './types.ts';

export interface AlertKindDoc {
  /** Alertmanager's `alertname` label and the Prometheus rule's `alert:`. */
  alertname: string;
  /** What it means, in a sentence (README, rule annotations). */
  meaning: string;
}

export const ALERT_KIND_DOCS: Record<AlertRuleKind, AlertKindDoc> = {
  health: {
    alertname: 'HalflifeModelUnhealthy',
    meaning: "the model's health (the monitor's one health rule) is in one of the rule's states",
  },
  slo: {
    alertname: 'HalflifeQualitySlo',
    meaning:
      'quality is below the SLO (subject "breached"), or the decay fit predicts it within the horizon ("forecast")',
  },
  'data-quality': {
    alertname: 'HalflifeDataQuality',
    meaning: 'windows fail their data-quality checks (missing values, type violations, dead letters...)',
  },
  drift: {
    alertname: 'HalflifeInputDrift',
    meaning: "the model's inputs drifted from the reference for consecutive windows",
  },
  'approval-pending': {
    alertname: 'HalflifeApprovalPending',
    meaning: 'a retrain waits for a person to approve or reject it',
  },
  'promotion-failed': {
    alertname: 'HalflifePromotionFailed',
    meaning: 'a retrain failed or its canary was rolled back; resolved by the next promotion',
  },
  'serving-disagreement': {
    alertname: 'HalflifeServingDisagreement',
    meaning: 'what the scorers serve differs from what the registry says should be served',
  },
};

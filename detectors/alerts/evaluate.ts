/**
 * The alert rule evaluator: signals and what fired before in, the alerts to send and the alerts
 * to resolve out. Pure (no clock: `signals.at` is the time), so the ModelMonitor workflow can run it
 * in workflow code and a replay re-derives the same alerts.
 *
 * De-duplication is by a stable key, `<model>/<rule>[/<subject>]`: a key fires once and stays
 * firing, however many ticks its condition holds, until the condition clears (or its rule leaves
 * the policy), which resolves it. Re-notification of a long-firing alert is the delivery's job
 * (`renotifyEvery`), not the evaluator's.
 */
import { activeConditions } from './conditions.ts';
import type {
  AlertEvaluation,
  AlertMemory,
  AlertNotice,
  AlertPolicy,
  AlertResolution,
  AlertSignals,
  PromotionOutcome,
  ServingReport,
} from './types.ts';

export function emptyAlertMemory(): AlertMemory {
  return { firing: {}, promotionFailure: null, serving: null };
}

/** The stable de-duplication key of a rule's condition. */
export function alertKey(modelId: string, rule: string, subject: string | null): string {
  return subject === null ? `${modelId}/${rule}` : `${modelId}/${rule}/${subject}`;
}

/**
 * Id of the workflow that delivers one firing of a key (from firing to resolved): the key and the
 * time it fired, so a key that fires again later gets a new one. Model ids and rule names hold no
 * "/", so the parts cannot run into each other.
 */
export function alertEpisodeId(key: string, firedAt: number): string {
  return `halflife-alert/${key}/${firedAt}`;
}

export function evaluateAlerts(
  policy: AlertPolicy | undefined,
  signals: AlertSignals,
  previous: AlertMemory,
): AlertEvaluation {
  const memory: AlertMemory = {
    firing: { ...previous.firing },
    promotionFailure: previous.promotionFailure,
    serving: previous.serving,
  };
  const fire: AlertNotice[] = [];
  const resolve: AlertResolution[] = [];
  const active = new Set<string>();
  const rules = policy?.rules ?? [];
  const allReceivers = (policy?.receivers ?? []).map((r) => r.name);

  for (const rule of rules) {
    for (const condition of activeConditions(rule, signals)) {
      const key = alertKey(signals.modelId, rule.name, condition.subject);
      active.add(key);
      if (memory.firing[key]) continue;
      const episodeId = alertEpisodeId(key, signals.at);
      memory.firing[key] = {
        key,
        rule: rule.name,
        kind: rule.kind,
        severity: condition.severity,
        subject: condition.subject,
        since: signals.at,
        episodeId,
        summary: condition.summary,
      };
      fire.push({
        key,
        episodeId,
        modelId: signals.modelId,
        modelVersion: signals.version,
        rule: rule.name,
        kind: rule.kind,
        severity: condition.severity,
        subject: condition.subject,
        summary: condition.summary,
        description: condition.description,
        details: condition.details,
        startsAt: signals.at,
        receivers: rule.receivers ?? allReceivers,
      });
    }
  }

  const ruleNames = new Set(rules.map((r) => r.name));
  for (const [key, alert] of Object.entries(memory.firing)) {
    if (active.has(key)) continue;
    delete memory.firing[key];
    resolve.push({
      key,
      episodeId: alert.episodeId,
      at: signals.at,
      reason: ruleNames.has(alert.rule) ? resolvedReason(alert.kind, signals) : 'its rule was removed from the policy',
    });
  }
  return { memory, fire, resolve };
}

/** Remember how a retrain or promotion ended: a failure stays until a later promotion succeeds. */
export function notePromotionOutcome(memory: AlertMemory, outcome: PromotionOutcome): AlertMemory {
  if (outcome.outcome === 'failed' || outcome.outcome === 'rolled-back')
    return { ...memory, promotionFailure: outcome };
  if (outcome.outcome === 'promoted') return { ...memory, promotionFailure: null };
  return memory;
}

/** Remember serving's latest report. */
export function noteServingReport(memory: AlertMemory, report: ServingReport): AlertMemory {
  return { ...memory, serving: report };
}

function resolvedReason(kind: string, s: AlertSignals): string {
  switch (kind) {
    case 'health':
      return `health is now ${s.health}`;
    case 'slo':
      return 'quality is back above the SLO and no breach is predicted within the alert horizon';
    case 'data-quality':
      return 'the last window passed its data-quality checks';
    case 'drift':
      return 'the last window did not drift';
    case 'approval-pending':
      return 'the approval was answered (approved, rejected or expired)';
    case 'promotion-failed':
      return 'a later version was promoted';
    case 'serving-disagreement':
      return 'serving agrees with the registry again';
    default:
      return 'the condition cleared';
  }
}

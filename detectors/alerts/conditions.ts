/**
 * When each kind of alert rule holds, and what it says when it does. One function per kind:
 * signals in, the conditions that hold now out (none, one, or — for health — one per state).
 */
import { parseDuration } from '../policy/duration.ts';
import type { WindowSummary } from '../policy/state.ts';
import type { AlertRule, AlertSeverity, AlertSignals } from './types.ts';

/** A rule's condition that holds now. */
export interface ActiveCondition {
  /** Distinguishes several conditions of one rule (a health state, "breached" or "forecast"). */
  subject: string | null;
  severity: AlertSeverity;
  summary: string;
  description: string;
  details: Record<string, unknown>;
}

const HOUR = 3_600_000;
/** Drifted features or failing checks named in a summary; the details keep them all. */
const NAMED_IN_SUMMARY = 3;

export function activeConditions(rule: AlertRule, s: AlertSignals): ActiveCondition[] {
  switch (rule.kind) {
    case 'health':
      return healthCondition(rule.states as readonly string[], rule.severity, s);
    case 'slo':
      return sloConditions(rule.consecutiveWindows, rule.within, rule.severity, s);
    case 'data-quality':
      return dataQualityCondition(rule.consecutiveWindows, rule.severity, s);
    case 'drift':
      return driftCondition(rule.consecutiveWindows, rule.share, rule.severity, s);
    case 'approval-pending':
      return approvalCondition(parseDuration(rule.after), rule.severity, s);
    case 'promotion-failed':
      return promotionCondition(rule.severity, s);
    case 'serving-disagreement':
      return servingCondition(rule.severity, s);
  }
}

function healthCondition(states: readonly string[], severity: AlertSeverity, s: AlertSignals): ActiveCondition[] {
  if (!states.includes(s.health)) return [];
  const why: Record<string, string> = {
    degraded: 'its quality is below the SLO (or, with none, below what recent versions attain)',
    'data-quality': `its last window failed data-quality checks${listed(s.dataQualityAlerts)}`,
    drifting: `its inputs drifted${listed(s.driftedFeatures)}`,
    unknown: 'no window has been evaluated yet',
    paused: 'its monitor is paused: no windows are evaluated and no retrains start',
  };
  return [
    {
      subject: s.health,
      severity,
      summary: `${s.modelId} is ${s.health}`,
      description: `${s.modelId} (version ${s.version ?? 'unknown'}) is ${s.health}: ${why[s.health] ?? s.health}.`,
      details: { health: s.health, version: s.version },
    },
  ];
}

/**
 * The highest quality a window's figure allows: an estimate with an interval breaches only when
 * its upper bound is below the SLO (sampling noise is not a breach); other values as they are.
 */
function credibleHigh(quality: NonNullable<WindowSummary['quality']>): number {
  return quality.source === 'estimated' && quality.interval ? quality.interval.upper : quality.value;
}

function sloConditions(
  consecutive: number,
  within: string | undefined,
  severity: AlertSeverity,
  s: AlertSignals,
): ActiveCondition[] {
  if (s.slo === null) return [];
  const slo = s.slo;
  const recent = lastWindows(s.windows, consecutive);
  const belowInWindows =
    recent !== null &&
    recent.every((w) => w.quality !== null && w.quality !== undefined && credibleHigh(w.quality) < slo);
  const last = s.windows[s.windows.length - 1]?.quality ?? null;
  if (belowInWindows || s.timeToBreachHours === 0) {
    const band = last?.interval ? ` [${fixed(last.interval.lower)}, ${fixed(last.interval.upper)}]` : '';
    const figure = last ? `${last.metric} ${fixed(last.value)}${band} (${last.source})` : 'quality';
    return [
      {
        subject: 'breached',
        severity,
        summary: `${s.modelId}: ${figure} is below its SLO ${fixed(slo)}`,
        description: belowInWindows
          ? `${s.modelId}: quality has been below the SLO ${fixed(slo)} for ${consecutive} window(s); the last was ${figure}.`
          : `${s.modelId}: the decay fit of version ${s.version ?? 'unknown'} has crossed the SLO ${fixed(slo)}.`,
        details: { slo, quality: last, consecutiveWindows: consecutive, timeToBreachHours: s.timeToBreachHours },
      },
    ];
  }
  if (within === undefined || s.timeToBreachHours === null) return [];
  const hours = s.timeToBreachHours;
  if (hours > parseDuration(within) / HOUR) return [];
  return [
    {
      subject: 'forecast',
      severity: 'warning',
      summary: `${s.modelId}: quality is predicted to fall below its SLO ${fixed(slo)} in ${hoursText(hours)}`,
      description: `${s.modelId}: the decay fit of version ${s.version ?? 'unknown'} crosses the SLO ${fixed(slo)} in about ${hoursText(hours)} (alerting within ${within}).`,
      details: { slo, timeToBreachHours: hours, within, quality: last },
    },
  ];
}

function dataQualityCondition(consecutive: number, severity: AlertSeverity, s: AlertSignals): ActiveCondition[] {
  const recent = lastWindows(s.windows, consecutive);
  if (recent === null || !recent.every((w) => w.dataQualityOk === false)) return [];
  return [
    {
      subject: null,
      severity,
      summary: `${s.modelId}: data quality failing${consecutive > 1 ? ` for ${consecutive} windows` : ''}${listed(s.dataQualityAlerts)}`,
      description: `${s.modelId}: ${consecutive} window(s) in a row failed their data-quality checks. Last window: ${s.dataQualityAlerts.join('; ') || 'see the decision'}. Fix the producer; the monitor does not retrain on broken data.`,
      details: { consecutiveWindows: consecutive, checks: s.dataQualityAlerts },
    },
  ];
}

function driftCondition(
  consecutive: number,
  share: number | undefined,
  severity: AlertSeverity,
  s: AlertSignals,
): ActiveCondition[] {
  const recent = lastWindows(s.windows, consecutive);
  const drifted = (w: WindowSummary) =>
    w.drift !== null &&
    w.drift !== undefined &&
    (share === undefined ? w.drift.datasetDrift : w.drift.driftedShare >= share);
  if (recent === null || !recent.every(drifted)) return [];
  const lastShare = s.windows[s.windows.length - 1]?.drift?.driftedShare ?? null;
  return [
    {
      subject: null,
      severity,
      summary: `${s.modelId}: input drift${consecutive > 1 ? ` for ${consecutive} windows` : ''}${listed(s.driftedFeatures)}`,
      description: `${s.modelId}: ${consecutive} window(s) in a row drifted${share === undefined ? ' (dataset verdict)' : ` (≥ ${fixed(share)} of features)`}; in the last one ${lastShare === null ? 'some' : `${Math.round(lastShare * 100)}%`} of features drifted: ${s.driftedFeatures.join(', ') || 'see the decision'}.`,
      details: {
        consecutiveWindows: consecutive,
        share: share ?? null,
        driftedShare: lastShare,
        features: s.driftedFeatures,
      },
    },
  ];
}

function approvalCondition(afterMs: number, severity: AlertSeverity, s: AlertSignals): ActiveCondition[] {
  const { pending, requestedAt } = s.approval;
  if (!pending || requestedAt === null || s.at - requestedAt < afterMs) return [];
  return [
    {
      subject: null,
      severity,
      summary: `${s.modelId}: a retrain is waiting for approval`,
      description: `${s.modelId}: the policy asked for a retrain at ${new Date(requestedAt).toISOString()} and a person must answer: \`halflife approve ${s.modelId}\` or \`halflife reject ${s.modelId}\`.`,
      details: { requestedAt },
    },
  ];
}

function promotionCondition(severity: AlertSeverity, s: AlertSignals): ActiveCondition[] {
  const failure = s.promotionFailure;
  if (failure === null) return [];
  const what = failure.outcome === 'rolled-back' ? 'was rolled back' : 'failed';
  const tried =
    failure.action === 'rollback'
      ? `the rollback from ${failure.version ?? 'production'}`
      : failure.version
        ? `version ${failure.version}`
        : 'the retrain';
  return [
    {
      subject: null,
      severity,
      summary: `${s.modelId}: ${failure.action === 'rollback' || failure.version ? tried : 'a retrain'} ${what}`,
      description: `${s.modelId}: ${tried} ${what} (${failure.source}): ${failure.reason}. The version in service keeps serving; the alert resolves at the next promotion.`,
      details: { ...failure },
    },
  ];
}

function servingCondition(severity: AlertSeverity, s: AlertSignals): ActiveCondition[] {
  const report = s.serving;
  if (report === null || report.agrees) return [];
  return [
    {
      subject: null,
      severity,
      summary: `${s.modelId}: serving disagrees with the registry (requested ${report.requested ?? 'none'}, serving ${report.serving.join(', ') || 'nothing'})`,
      description: `${s.modelId}: the registry wants ${report.requested ?? 'no version'} served, scorers acknowledge ${report.serving.join(', ') || 'nothing'}: ${report.reason}.`,
      details: { ...report },
    },
  ];
}

/** The last `n` windows, or null when there are fewer. */
function lastWindows(windows: readonly WindowSummary[], n: number): WindowSummary[] | null {
  return windows.length >= n && n > 0 ? windows.slice(-n) : null;
}

function listed(items: readonly string[]): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, NAMED_IN_SUMMARY).join(', ');
  return `: ${shown}${items.length > NAMED_IN_SUMMARY ? ` and ${items.length - NAMED_IN_SUMMARY} more` : ''}`;
}

function fixed(value: number): string {
  return value.toFixed(3);
}

function hoursText(hours: number): string {
  return hours < 1
    ? `${Math.max(1, Math.round(hours * 60))} min`
    : hours < 48
      ? `${hours.toFixed(1)} h`
      : `${(hours / 24).toFixed(1)} d`;
}

/**
 * The health rule's inputs (health.ts) from what a monitor keeps: its windows, quality points,
 * decay fit, settings and policy. Pure, so the workflow, `halflife backtest` and the tests derive
 * them alike. Ingest and serving are not the monitor's to see: they come out `null`.
 */
import { attainableQuality } from '../economics/staleness.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import type { HealthInputs, QualityTarget } from './health.ts';
import { earlyQualityByVersion } from './tick.ts';
import type { MonitorSettings, MonitorState } from './types.ts';

const HOUR = 3_600_000;

/** A breach predicted within this many windows makes the model `decaying`. */
export const BREACH_WARNING_WINDOWS = 24;

/** Ingest lag tolerated before health says so, at least (seconds); a longer settle delay raises it. */
export const MIN_INGEST_LAG_LIMIT_SECONDS = 60;

export interface HealthContext {
  settings: Pick<MonitorSettings, 'qualitySlo' | 'qualityMetric'>;
  policy: Pick<RetrainPolicy, 'trigger'>;
  cadenceMs: number;
  /** How long after a window closes the monitor evaluates it. */
  settleMs: number;
}

/**
 * The SLO quality is held to: the monitor's `qualitySlo`, else the threshold of a `threshold`
 * trigger on the monitored metric (higher is better); null when neither is set.
 */
export function qualitySlo(context: Pick<HealthContext, 'settings' | 'policy'>): number | null {
  if (context.settings.qualitySlo !== null) return context.settings.qualitySlo;
  const trigger = context.policy.trigger;
  if (
    trigger.kind === 'threshold' &&
    trigger.direction === 'higher-is-better' &&
    (trigger.metric === context.settings.qualityMetric || trigger.metric === 'quality')
  )
    return trigger.threshold;
  return null;
}

/** The SLO when there is one, else the attainable quality of recent versions (economics/staleness.ts). */
export function qualityTarget(state: MonitorState, context: Pick<HealthContext, 'settings' | 'policy'>) {
  const slo = qualitySlo(context);
  if (slo !== null) return { value: slo, source: 'slo' } satisfies QualityTarget;
  const attainable = attainableQuality(earlyQualityByVersion(state.points, state.version), state.freshQuality);
  return attainable.value === null ? null : ({ value: attainable.value, source: 'attainable' } satisfies QualityTarget);
}

/**
 * The last window's quality with a normal-approximation 95% interval from its labelled events
 * (realised accuracy or AUC), or a label-free estimate with the interval it was recorded with
 * (none before estimation revision 2).
 */
export function lastWindowQuality(state: MonitorState): HealthInputs['quality'] {
  const last = state.windows[state.windows.length - 1];
  const quality = last?.quality;
  if (!quality) return null;
  // The window's point: the newest of the version in service (points are grouped by version).
  let point: MonitorState['points'][number] | undefined;
  for (let i = state.points.length - 1; i >= 0 && point === undefined; i--)
    if (state.points[i]!.version === state.version) point = state.points[i];
  // A label-free estimate carries its own interval (estimation revision 2).
  if (quality.source === 'estimated' && quality.interval)
    return { value: quality.value, lower: quality.interval.lower, upper: quality.interval.upper };
  const matches = point !== undefined && point.quality === quality.value;
  if (quality.source !== 'realised' || !matches || point === undefined)
    return { value: quality.value, lower: null, upper: null };
  const p = Math.min(1, Math.max(0, quality.value));
  const half = 1.96 * Math.sqrt((p * (1 - p)) / Math.max(1, point.weight));
  return { value: quality.value, lower: Math.max(0, p - half), upper: Math.min(1, p + half) };
}

/** Every input the monitor itself can give; `ingest` and `servingDisagreement` are left to observers. */
export function monitorHealthInputs(state: MonitorState, context: HealthContext): HealthInputs {
  const last = state.windows[state.windows.length - 1];
  return {
    paused: state.paused,
    evaluated: last !== undefined,
    dataQualityOk: last?.dataQualityOk ?? null,
    quality: lastWindowQuality(state),
    target: qualityTarget(state, context),
    timeToBreachHours: state.decay?.timeToBreach?.hours ?? null,
    breachWarningHours: (BREACH_WARNING_WINDOWS * context.cadenceMs) / HOUR,
    datasetDrift: last?.drift?.datasetDrift ?? null,
    ingest: null,
    ingestLagLimitSeconds: Math.max(MIN_INGEST_LAG_LIMIT_SECONDS, context.settleMs / 1000),
    servingDisagreement: null,
    ...(state.segments && state.segments.sloBreaches.length > 0
      ? { segmentSloBreaches: state.segments.sloBreaches.map((b) => b.segment) }
      : {}),
  };
}

/**
 * The one health rule of a monitored model. The workflow's status query and search attribute,
 * the API, the CLI and the dashboard all call it, so a model reads the same everywhere: the
 * workflow from its live state, the dashboard from the last recorded window when the workflow
 * does not answer. What the monitor cannot see itself (is ingest keeping up, does serving
 * score with the version the registry names) is added by whoever observes it — the daemon's
 * API from its ingest worker, the CLI from the daemon's /readyz — and is `null` (not observed,
 * no evidence of trouble) otherwise. README ("Health") says what to do in each state.
 */

/** A model's health, in the order the rule checks it (the first that applies wins). */
export type MonitorHealth =
  | 'paused'
  | 'serving-mismatch'
  | 'ingest-stalled'
  | 'unknown'
  | 'data-quality'
  | 'degraded'
  | 'decaying'
  | 'drifting'
  | 'healthy';

/** Quality the version in service is measured against. */
export interface QualityTarget {
  value: number;
  /** `slo`: set by the monitor's settings or the policy's threshold; `attainable`: median early-life quality of recent versions. */
  source: 'slo' | 'attainable';
}

/** What ingest looks like to the process that runs it. */
export interface IngestObservation {
  /** Not consuming: ClickHouse writes fail, or Kafka has not answered for a while. */
  stalled: boolean;
  /** Age of the records being stored when ingest is behind (0 when caught up); null when not measured. */
  lagSeconds: number | null;
  /** Why, in a sentence, when stalled. */
  detail?: string;
}

export interface HealthInputs {
  /** A person paused the monitor. */
  paused: boolean;
  /** At least one window has been evaluated. */
  evaluated: boolean;
  /** The last window's data-quality verdict; null when it was not judged. */
  dataQualityOk: boolean | null;
  /** The last window's quality (higher is better) with its confidence interval when it has one; null when unknown. */
  quality: { value: number; lower: number | null; upper: number | null } | null;
  /** What quality is held to; null when neither an SLO nor an attainable level is known. */
  target: QualityTarget | null;
  /** Hours until the decay fit crosses the SLO; 0 = already breached; null = no fit or no SLO. */
  timeToBreachHours: number | null;
  /** A predicted breach this close (hours) makes the model `decaying`. */
  breachWarningHours: number;
  /** The last window's dataset-level drift verdict; null when there was no reference. */
  datasetDrift: boolean | null;
  /** Ingest as its process sees it; null when not observed (the workflow itself cannot see it). */
  ingest: IngestObservation | null;
  /** Ingest lag (seconds) beyond which windows are evaluated before their data arrived. */
  ingestLagLimitSeconds: number;
  /** Serving scores with another version than the registry's production one; null when not observed. */
  servingDisagreement: boolean | null;
  /** Segments whose quality breaches the policy's segment SLO in the last window (detectors/segments/). @default undefined */
  segmentSloBreaches?: string[] | null;
}

/**
 * Below an attainable level by less than this (absolute, in the metric's units) is not degraded:
 * the attainable median itself moves by about this much between versions.
 */
export const ATTAINABLE_TOLERANCE = 0.02;

/** One reason the model is not healthy, with the state it leads to. */
export interface HealthFinding {
  state: Exclude<MonitorHealth, 'healthy'>;
  reason: string;
}

export interface HealthAssessment {
  health: MonitorHealth;
  /** Every finding that applies, in rule order (the first decides `health`). */
  findings: HealthFinding[];
}

/**
 * Each state hides the ones after it: a stalled ingest or a serving mismatch makes every
 * number stale or about another model; broken input makes quality and drift meaningless;
 * quality already below target outranks a predicted breach, which outranks drift (drift
 * without a quality loss is a warning, not a failure).
 */
export function assessHealth(inputs: HealthInputs): HealthAssessment {
  const findings: HealthFinding[] = [];
  const add = (state: HealthFinding['state'], reason: string) => findings.push({ state, reason });

  if (inputs.paused) add('paused', 'a person paused the monitor');
  if (inputs.servingDisagreement === true)
    add('serving-mismatch', 'serving scores with another version than the registry names as production');
  const ingest = inputs.ingest;
  if (ingest?.stalled) add('ingest-stalled', ingest.detail ?? 'ingest is not consuming');
  else if (ingest && ingest.lagSeconds !== null && ingest.lagSeconds > inputs.ingestLagLimitSeconds)
    add(
      'ingest-stalled',
      `ingest is ${Math.round(ingest.lagSeconds)} s behind (limit ${Math.round(inputs.ingestLagLimitSeconds)} s): windows are evaluated before their data arrive`,
    );
  if (!inputs.evaluated) add('unknown', 'no window has been evaluated yet');
  if (inputs.dataQualityOk === false) add('data-quality', 'the last window failed its data-quality checks');

  const degraded = belowTarget(inputs);
  if (degraded) add('degraded', degraded);
  // A segment below its SLO is degraded even when the whole window holds up (a small segment can sink unseen in the mix).
  if (inputs.segmentSloBreaches && inputs.segmentSloBreaches.length > 0)
    add('degraded', `quality is below the segment SLO in ${inputs.segmentSloBreaches.join(', ')}`);
  if (!degraded && inputs.timeToBreachHours !== null && inputs.timeToBreachHours <= inputs.breachWarningHours)
    add('decaying', `the decay fit crosses the SLO in ${inputs.timeToBreachHours.toFixed(1)} h`);
  if (inputs.datasetDrift === true) add('drifting', 'the input data drifted from the reference');

  return { health: findings[0]?.state ?? 'healthy', findings };
}

/** The state alone. */
export function monitorHealth(inputs: HealthInputs): MonitorHealth {
  return assessHealth(inputs).health;
}

/** Why quality is degraded, or null when it is not (or cannot be told). */
function belowTarget(inputs: HealthInputs): string | null {
  if (inputs.timeToBreachHours === 0) return 'the decay fit is already below the SLO';
  const { quality, target } = inputs;
  if (!quality || !target) return null;
  // Significantly below: the whole interval when there is one (sampling noise is not a breach).
  const high = quality.upper ?? quality.value;
  const floor = target.source === 'slo' ? target.value : target.value - ATTAINABLE_TOLERANCE;
  if (high >= floor) return null;
  return target.source === 'slo'
    ? `quality ${quality.value.toFixed(3)} is below the SLO ${target.value.toFixed(3)}`
    : `quality ${quality.value.toFixed(3)} is below the attainable ${target.value.toFixed(3)} (recent versions' early life) by more than ${ATTAINABLE_TOLERANCE}`;
}

/** Inputs of the first rule: what a monitor recorded before the quality target existed. */
export interface HealthInputsRevision1 {
  paused: boolean;
  evaluated: boolean;
  dataQualityOk: boolean | null;
  timeToBreachHours: number | null;
  datasetDrift: boolean | null;
}

/**
 * The rule as it was before quality was held to a target (no `degraded` without an SLO): kept
 * for monitors whose history started before it, so replaying them issues the same search
 * attributes (workflows/monitor/model-monitor.ts, `patched('health-quality-target')`).
 */
export function monitorHealthRevision1(inputs: HealthInputsRevision1): MonitorHealth {
  if (inputs.paused) return 'paused';
  if (!inputs.evaluated) return 'unknown';
  if (inputs.dataQualityOk === false) return 'data-quality';
  if (inputs.timeToBreachHours === 0) return 'degraded';
  if (inputs.datasetDrift === true) return 'drifting';
  return 'healthy';
}

/** What the observer adds to the monitor's own inputs: ingest and serving as it sees them. */
export function withObserved(
  inputs: HealthInputs,
  observed: { ingest?: IngestObservation | null; servingDisagreement?: boolean | null },
): HealthInputs {
  return {
    ...inputs,
    ingest: observed.ingest === undefined ? inputs.ingest : observed.ingest,
    servingDisagreement:
      observed.servingDisagreement === undefined ? inputs.servingDisagreement : observed.servingDisagreement,
  };
}

/** A monitor's status as far as health goes (workflows/messages.ts MonitorStatus). */
export interface HealthOfStatus {
  health: MonitorHealth;
  healthFindings?: HealthFinding[];
  healthInputs?: HealthInputs;
}

/**
 * A monitor's status with what an observer sees added (ingest, serving) and health re-assessed
 * by the same rule. A status from a monitor on older code (no inputs) is returned as it is.
 */
export function reassessStatus<S extends HealthOfStatus>(
  status: S,
  observed: { ingest?: IngestObservation | null; servingDisagreement?: boolean | null },
): S {
  if (!status.healthInputs) return status;
  const healthInputs = withObserved(status.healthInputs, observed);
  const { health, findings } = assessHealth(healthInputs);
  return { ...status, health, healthFindings: findings, healthInputs };
}

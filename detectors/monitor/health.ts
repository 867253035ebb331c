/**
 * The one health rule of a monitored model. The workflow's status query, the API, the CLI and
 * the dashboard all call it, so a model reads the same everywhere: the workflow from its live
 * state, the dashboard from the last recorded window when the workflow does not answer.
 */

/** A model's health, worst first after `paused` and `unknown`. */
export type MonitorHealth = 'unknown' | 'healthy' | 'drifting' | 'degraded' | 'data-quality' | 'paused';

export interface HealthInputs {
  /** A person paused the monitor. */
  paused: boolean;
  /** At least one window has been evaluated. */
  evaluated: boolean;
  /** The last window's data-quality verdict; null when it was not judged. */
  dataQualityOk: boolean | null;
  /** Hours until the decay fit crosses the SLO; 0 = already breached; null = no fit or no SLO. */
  timeToBreachHours: number | null;
  /** The last window's dataset-level drift verdict; null when there was no reference. */
  datasetDrift: boolean | null;
}

/** Broken input outranks a breached SLO, which outranks drift: each hides what follows it. */
export function monitorHealth(inputs: HealthInputs): MonitorHealth {
  if (inputs.paused) return 'paused';
  if (!inputs.evaluated) return 'unknown';
  if (inputs.dataQualityOk === false) return 'data-quality';
  if (inputs.timeToBreachHours === 0) return 'degraded';
  if (inputs.datasetDrift === true) return 'drifting';
  return 'healthy';
}

/** The probe settings of a policy with defaults applied. Pure; importable from workflow code. */
import type { ProbePolicy } from './types.ts';

export const DEFAULT_PROBES: ProbePolicy = {
  enabled: true,
  probeCost: 'auto',
  minPairedEvents: 200,
  maxWindows: 4,
  priorGap: 0.005,
};

/** A probe is a training run and a scoring pass: "auto" prices it at this share of a retrain. */
export const AUTO_PROBE_COST_SHARE = 0.05;

export interface ResolvedProbePolicy extends Omit<ProbePolicy, 'probeCost'> {
  probeCost: number;
  probeCostSource: string;
}

export function resolveProbePolicy(probes: Partial<ProbePolicy> | undefined, retrainCost: number): ResolvedProbePolicy {
  const p = { ...DEFAULT_PROBES, ...probes };
  const auto = p.probeCost === 'auto';
  return {
    ...p,
    probeCost: auto ? AUTO_PROBE_COST_SHARE * retrainCost : (p.probeCost as number),
    probeCostSource: auto ? `auto: ${AUTO_PROBE_COST_SHARE} × retrain cost` : 'policy probes.probeCost',
  };
}

import { parsePolicy } from '../../platform/policy-file.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';

/**
 * The input of a monitor whose policy only watches: a threshold trigger on accuracy (0.8, two windows
 * in a row) that windows without labels never reach. Tests of the monitor's schedule, runs and
 * messages start it; `overrides` adds what each needs.
 * @param overrides fields of the input to set @default cadence '1h', settle '0s'
 */
export function watchingMonitorInput(
  modelId: string,
  name: string,
  overrides: Partial<Omit<ModelMonitorInput, 'modelId' | 'policy' | 'policyRef'>> = {},
): ModelMonitorInput {
  const { policy, ref } = parsePolicy({
    name,
    version: '1',
    model: modelId,
    trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
  });
  return { modelId, policy, policyRef: ref, cadence: '1h', settle: '0s', ...overrides };
}

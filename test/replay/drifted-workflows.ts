/**
 * A deliberately nondeterministic edit of the monitor, for the replay suite: it reads the
 * first window before doing anything else, which the recorded histories never did. Replaying
 * them against this code must fail and name where the history diverged.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MonitorActivities } from '../../activities/monitor.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { ModelMonitor as RecordedModelMonitor } from '../../workflows/monitor/model-monitor.ts';

export { Retrain } from '../../workflows/retrain.ts';

const monitor = proxyActivities<MonitorActivities>({ startToCloseTimeout: '1m' });

export async function ModelMonitor(input: ModelMonitorInput): Promise<void> {
  await monitor.collectWindow({ modelId: input.modelId, start: 0, end: 1, referenceId: null });
  return RecordedModelMonitor(input);
}

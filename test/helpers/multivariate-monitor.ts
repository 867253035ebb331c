/**
 * The monitor run of the multivariate drift tests (monitor-multivariate, monitor-vectors): hourly
 * windows through the real ModelMonitor with a threshold policy and the multivariate tests on,
 * until a number of windows have decided — waiting for their decisions, not for a time.
 */
import type { DriftReport } from '../../detectors/drift/report.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { MonitorHarness } from './monitor-harness.ts';

const HOUR = 3_600_000;

/** Run `modelId`'s monitor (policy `policyName`) until `windows` windows have decided no action; every decision, oldest first. */
export async function multivariateMonitorDecisions(
  harness: MonitorHarness,
  modelId: string,
  policyName: string,
  windows = 3,
): Promise<DecisionRecord[]> {
  const { env, ch, config } = harness;
  const policy = parsePolicy({
    name: policyName,
    version: '1',
    model: modelId,
    trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
    multivariate: { enabled: true },
  });
  let decisions: DecisionRecord[] = [];
  const worker = await harness.createWorker();
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(modelId),
      taskQueue: config.temporal.taskQueue,
      args: [{ modelId, policy: policy.policy, policyRef: policy.ref, cadence: '1h', settle: '0s' }],
    });
    for (;;) {
      decisions = (await listDecisions(ch.client, { modelId, limit: 10 })).reverse();
      if (decisions.filter((d) => d.kind === 'no-action').length >= windows) break;
      await env.sleep(HOUR / 2);
    }
    await handle.terminate('test over');
  });
  return decisions;
}

/** A decision's drift report (null when the window had no reference). */
export const driftOf = (d: DecisionRecord): DriftReport | null => (d.statistics as { drift: DriftReport | null }).drift;

/** A decision's window. */
export const windowOf = (d: DecisionRecord): { start: number } =>
  (d.statistics as { window: { start: number } }).window;

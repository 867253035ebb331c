import type { ClickHouseClient } from '@clickhouse/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { waitUntil } from './kafka.ts';

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

/**
 * Start the monitor `input` describes on `taskQueue` and wait until `windows` of its decisions are
 * stored; the handle of the running monitor is returned (the caller ends it).
 * @param timeoutMs how long the windows may take @default 120_000
 * @param pollMs how often the decisions are counted @default 250
 */
export async function startMonitorUntilDecided(
  { client, clickhouse, taskQueue }: { client: Client; clickhouse: ClickHouseClient; taskQueue: string },
  input: ModelMonitorInput,
  windows: number,
  { timeoutMs = 120_000, pollMs = 250 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<WorkflowHandle> {
  const handle = await client.workflow.start('ModelMonitor', {
    workflowId: monitorWorkflowId(input.modelId),
    taskQueue,
    args: [input],
  });
  await waitUntil(
    `${windows} decided windows`,
    async () => (await listDecisions(clickhouse, { modelId: input.modelId, limit: 1000 })).length >= windows,
    timeoutMs,
    pollMs,
  );
  return handle;
}

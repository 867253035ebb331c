import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { recordDecision } from '../platform/clickhouse/decisions-repository.ts';

/** A person's promotion or rollback, recorded as a decision like the monitor's own (API and CLI). */
export async function recordManualDecision(
  client: ClickHouseClient,
  kind: 'promote' | 'rollback',
  model: string,
  version: string,
  actor: string,
  reason: string,
  details: unknown,
): Promise<string> {
  const decisionId = `manual-${randomUUID()}/${kind}`;
  await recordDecision(client, {
    decisionId,
    modelId: model,
    modelVersion: version,
    workflowId: '',
    runId: '',
    decidedAt: Date.now(),
    kind,
    actor,
    reason,
    policy: { name: '', version: '', hash: '' },
    statistics: null,
    thresholds: null,
    windows: null,
    trainingWindow: null,
    lineageId: '',
    details,
  });
  return decisionId;
}

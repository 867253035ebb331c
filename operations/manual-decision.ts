import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { recordDecision, type DecisionKind } from '../platform/clickhouse/decisions-repository.ts';

/** A person's stage change (promote, rollback, archive, and their failures), recorded as a decision like the monitor's own (API and CLI). */
export async function recordManualDecision(
  client: ClickHouseClient,
  kind: Extract<DecisionKind, 'promote' | 'rollback' | 'archive' | 'promotion-failed' | 'rollback-failed'>,
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

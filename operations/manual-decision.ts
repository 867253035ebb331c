import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { recordDecision, type DecisionKind } from '../platform/clickhouse/decisions-repository.ts';
import { ServingNotConfirmedError, type ServingConfirmation } from './serving-confirmation.ts';

/** A decision taken outside a monitor (a person's stage change, a GDPR erasure or withdrawal). */
export interface OperationDecision {
  decisionId: string;
  kind: DecisionKind;
  modelId: string;
  modelVersion: string;
  actor: string;
  reason: string;
  /** @default null */
  statistics?: unknown;
  details: unknown;
}

/** Record a decision taken outside a monitor: no workflow, policy, windows or lineage stand behind it. */
export async function recordOperationDecision(client: ClickHouseClient, d: OperationDecision): Promise<void> {
  await recordDecision(client, {
    decisionId: d.decisionId,
    modelId: d.modelId,
    modelVersion: d.modelVersion,
    workflowId: '',
    runId: '',
    decidedAt: Date.now(),
    kind: d.kind,
    actor: d.actor,
    reason: d.reason,
    policy: { name: '', version: '', hash: '' },
    statistics: d.statistics ?? null,
    thresholds: null,
    windows: null,
    trainingWindow: null,
    lineageId: '',
    details: d.details,
  });
}

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
  await recordOperationDecision(client, {
    decisionId,
    kind,
    modelId: model,
    modelVersion: version,
    actor,
    reason,
    details,
  });
  return decisionId;
}

/**
 * A person's promotion or rollback that serving did not confirm (and that was undone): recorded as
 * its `*-failed` decision, then thrown as a {@link ServingNotConfirmedError} whose message
 * (`explain`, given the decision id) says what serves now.
 */
export async function failUnconfirmed(
  client: ClickHouseClient,
  kind: 'promotion-failed' | 'rollback-failed',
  input: { modelId: string; version: string; actor: string; reason: string },
  serving: ServingConfirmation,
  details: unknown,
  explain: (decisionId: string) => string,
): Promise<never> {
  const decisionId = await recordManualDecision(
    client,
    kind,
    input.modelId,
    input.version,
    input.actor,
    `${input.reason}: not confirmed by serving: ${serving.summary}`,
    details,
  );
  throw new ServingNotConfirmedError(explain(decisionId), serving, decisionId);
}

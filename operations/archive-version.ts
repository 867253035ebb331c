import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import type { RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { ValidationError } from '../platform/errors.ts';
import type { StageChange } from '../platform/registry/types.ts';
import { recordManualDecision } from './manual-decision.ts';

export interface ArchiveVersionInput {
  modelId: string;
  version: string;
  actor: string;
  reason: string;
}

/**
 * Retire a version that is not in production (API, CLI). The stage event records who and why, and
 * so does an `archive` decision: auditors read every stage change as a decision. Archiving an
 * archived version changes nothing and records nothing.
 */
export async function archiveVersion(
  clickhouse: ClickHouseClient,
  registry: RegistryRepository,
  input: ArchiveVersionInput,
): Promise<StageChange & { decisionId: string | null }> {
  const v = await registry.requireVersion(input.modelId, input.version);
  if (v.stage === 'production')
    throw new ValidationError(
      `${input.modelId} ${input.version} is in production: promote another version or roll back first`,
    );
  const change = await registry.setStage(input.modelId, input.version, 'archived', input.actor, input.reason);
  const decisionId = change.changed
    ? await recordManualDecision(clickhouse, 'archive', input.modelId, input.version, input.actor, input.reason, {
        manual: true,
        previousStage: change.previousStage,
      })
    : null;
  return { ...change, decisionId };
}

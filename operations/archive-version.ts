import type { RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { ValidationError } from '../platform/errors.ts';
import type { StageChange } from '../platform/registry/types.ts';

export interface ArchiveVersionInput {
  modelId: string;
  version: string;
  actor: string;
  reason: string;
}

/** Retire a version that is not in production (API, CLI); the stage event records who and why. */
export async function archiveVersion(registry: RegistryRepository, input: ArchiveVersionInput): Promise<StageChange> {
  const v = await registry.requireVersion(input.modelId, input.version);
  if (v.stage === 'production')
    throw new ValidationError(
      `${input.modelId} ${input.version} is in production: promote another version or roll back first`,
    );
  return registry.setStage(input.modelId, input.version, 'archived', input.actor, input.reason);
}

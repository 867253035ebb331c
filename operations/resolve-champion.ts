import type { RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { TERMINAL_STAGES } from '../platform/registry/types.ts';

export interface ResolvedChampion {
  /** The version the challenger is compared with; null: no comparison (offline validation only). */
  version: string | null;
  /** The champion the retrain was started with. */
  requested: string | null;
  /** Why the champion differs from the requested one (recorded with the retrain's decisions); null when it does not. */
  reason: string | null;
}

/**
 * The champion a retrain's challenger is judged against. A tainted (or rejected) version is never
 * a champion: in its place stands the production version — which a GDPR withdrawal makes the
 * newest untainted version that served before — and when no untainted version is production (the
 * model was withdrawn), the champion comparison is skipped and the reason recorded.
 */
export async function resolveChampion(
  registry: RegistryRepository,
  input: { modelId: string; championVersion: string | null },
): Promise<ResolvedChampion> {
  const requested = input.championVersion;
  if (requested === null) return { version: null, requested, reason: null };
  const champion = await registry.getVersion(input.modelId, requested);
  if (champion && !TERMINAL_STAGES.includes(champion.stage)) return { version: requested, requested, reason: null };
  const why = champion ? `${requested} is ${champion.stage}` : `${requested} is not in the registry`;
  const production = await registry.productionVersion(input.modelId);
  if (production && production.version !== requested && !TERMINAL_STAGES.includes(production.stage))
    return {
      version: production.version,
      requested,
      reason: `champion ${why}: the challenger is compared with ${production.version}, the production version`,
    };
  return {
    version: null,
    requested,
    reason: `champion ${why} and no untainted version is production: no champion comparison, the challenger is judged on offline validation`,
  };
}

/** Model registry: versions and stages in ClickHouse, artifacts in an {@link ArtifactStore}. */
export * from './types.ts';
export { ArtifactIntegrityError, LocalArtifactStore, sha256Hex } from './artifact-store.ts';
export type { ArtifactStore, StoredArtifact } from './artifact-store.ts';
export { ClickHouseRegistryRepository } from '../clickhouse/registry-repository.ts';
export type { RegistryRepository, ListVersionsOptions } from '../clickhouse/registry-repository.ts';

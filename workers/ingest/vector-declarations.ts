/**
 * Ingest's copy of every model's declared vector features (one row per model and vector
 * feature), re-read when older than `DECLARATIONS_MAX_AGE_MS` (declared-copy.ts).
 */
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { VectorDeclaration } from '../../platform/vector-features.ts';
import { copyPer, DeclaredCopy } from './declared-copy.ts';

const COPIES = new WeakMap<IngestRepository, DeclaredCopy<VectorDeclaration>>();

export class VectorDeclarations extends DeclaredCopy<VectorDeclaration> {
  /** The declarations a repository stores, one copy per repository; null when it stores none. */
  static of(repository: IngestRepository): DeclaredCopy<VectorDeclaration> | null {
    return copyPer(COPIES, repository, repository.vectorDeclarations?.bind(repository));
  }
}

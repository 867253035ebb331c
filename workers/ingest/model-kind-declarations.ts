/**
 * Ingest's copy of every model's declared kind (binary, multiclass with its classes, regression),
 * re-read when older than `DECLARATIONS_MAX_AGE_MS` (declared-copy.ts), so an event is checked
 * against its model's kind (`platform/prediction-kind.ts`) without a query per event.
 */
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { ModelKindDeclaration } from '../../platform/clickhouse/model-kind-repository.ts';
import { copyPer, DeclaredCopy } from './declared-copy.ts';

const COPIES = new WeakMap<IngestRepository, DeclaredCopy<ModelKindDeclaration>>();

export class ModelKindDeclarations extends DeclaredCopy<ModelKindDeclaration> {
  /** The kinds a repository stores, one copy per repository; null when it stores none. */
  static of(repository: IngestRepository): DeclaredCopy<ModelKindDeclaration> | null {
    return copyPer(COPIES, repository, repository.modelKinds?.bind(repository));
  }
}

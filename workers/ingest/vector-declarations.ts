/**
 * Ingest's copy of every model's declared vector features, so each record is checked against
 * them without a query per record: the whole (small: one row per model and vector feature)
 * declaration table, re-read before a batch or a request when the copy is older than `maxAgeMs`.
 * A new declaration therefore applies to records ingested from `maxAgeMs` after it.
 */
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { VectorDeclaration, VectorDeclarationLookup } from '../../platform/vector-features.ts';

/** How old the copy may be before a batch re-reads it (ms). */
export const VECTOR_DECLARATIONS_MAX_AGE_MS = 2000;

const COPIES = new WeakMap<IngestRepository, VectorDeclarations>();

export class VectorDeclarations {
  #byModel = new Map<string, Map<string, number>>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;
  readonly #load: () => Promise<Map<string, Map<string, number>>>;
  readonly #maxAgeMs: number;

  constructor(load: () => Promise<Map<string, Map<string, number>>>, maxAgeMs = VECTOR_DECLARATIONS_MAX_AGE_MS) {
    this.#load = load;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The declarations a repository stores, one copy per repository; null when it stores none. */
  static of(repository: IngestRepository): VectorDeclarations | null {
    const load = repository.vectorDeclarations?.bind(repository);
    if (!load) return null;
    let copy = COPIES.get(repository);
    if (!copy) COPIES.set(repository, (copy = new VectorDeclarations(load)));
    return copy;
  }

  /**
   * Re-read the declarations when the copy is older than allowed (one read at a time). A failed
   * re-read keeps the copy it has (the store is failing: the batch's insert will say so); with no
   * copy yet it throws, so no vector is judged against declarations never read.
   */
  async fresh(now = Date.now()): Promise<void> {
    if (now - this.#readAt < this.#maxAgeMs) return;
    this.#reading ??= this.#load()
      .then((byModel) => {
        this.#byModel = byModel;
        this.#readAt = now;
      })
      .finally(() => {
        this.#reading = null;
      });
    try {
      await this.#reading;
    } catch (err) {
      if (this.#readAt === Number.NEGATIVE_INFINITY) throw err;
    }
  }

  /** The lookup prepareRecord takes. */
  readonly lookup: VectorDeclarationLookup = (modelId: string): VectorDeclaration | undefined =>
    this.#byModel.get(modelId);
}

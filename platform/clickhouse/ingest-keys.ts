/**
 * The identities ingest de-duplicates by, as strings (ingest-repository.ts looks them up in
 * storage). Apart from the repository so the landing thread (workers/ingest/landing-thread.ts)
 * keys its batches without loading the engine's client: chDB's binding is one per process.
 */

const MINUTE_MS = 60_000;

/**
 * The minute an event's timestamp falls in (ms since the epoch): `toStartOfMinute(ts)` of the
 * `scoring_events` sorting key (migration 74), computed the same way on both sides.
 */
export function eventMinute(ts: number): number {
  return Math.floor(ts / MINUTE_MS) * MINUTE_MS;
}

/**
 * Identity of a scoring event: the table's ReplacingMergeTree key (model_id,
 * toStartOfMinute(ts), event_id). A re-send carries the same timestamp (the contract), so it
 * has the same key; one with another timestamp in another minute is another event.
 */
export function eventKey(modelId: string, eventId: string, ts: number): string {
  return `${modelId}\u0000${eventId}\u0000${eventMinute(ts)}`;
}

/** Identity of a label: a correction (newer label_ts) of the same event is a new label. */
export function labelKey(eventId: string, labelTs: number): string {
  return `${eventId}\u0000${labelTs}`;
}

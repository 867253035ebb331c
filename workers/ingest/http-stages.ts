/**
 * Where a POST /v1/events or /v1/labels spends its server time, stage by stage: the API's
 * `halflife_http_ingest_stage_seconds` histogram (workers/metrics.ts) and bench/post-latency.ts
 * read these observations. Stages, in request order:
 *  - `read`: the body's bytes arriving (from the route's pre-parsing hook to the body parser);
 *  - `parse`: UTF-8 check and JSON (or NDJSON) parse;
 *  - `declarations`: the vector and kind declarations re-read (every 2 s, else cached);
 *  - `validate`: the contract checks of every record (prepareRecord), dead letters' digests included;
 *  - `encode`: the valid rows written as RowBinary;
 *  - `queue`: waiting for the write group this request joins (concurrent POSTs share one look-up
 *    and one insert per table, workers/ingest/store-group.ts);
 *  - `lookup`: the duplicate look-ups of its group;
 *  - `insert`: its group's inserts;
 *  - `log` (`ack=logged`, instead of queue, look-up and insert): the valid records produced to
 *    Kafka until all in-sync replicas acknowledged them;
 *  - `response`: the answer serialised and written.
 */
import type { RecordKind } from './prepare-record.ts';

export const HTTP_INGEST_STAGES = [
  'read',
  'parse',
  'declarations',
  'validate',
  'encode',
  'queue',
  'lookup',
  'insert',
  'log',
  'response',
] as const;
export type HttpIngestStage = (typeof HTTP_INGEST_STAGES)[number];

/** One stage of one request: how long it took (ms) and how many records the request carried. */
export type HttpIngestStageListener = (kind: RecordKind, stage: HttpIngestStage, ms: number, records: number) => void;

/** The fan-out of stage timings to whoever listens (the metrics histogram, a benchmark). */
export class HttpIngestStages {
  readonly #listeners = new Set<HttpIngestStageListener>();

  /** Call `listener` for every stage observed from now on; the returned function stops it. */
  subscribe(listener: HttpIngestStageListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  observe(kind: RecordKind, stage: HttpIngestStage, ms: number, records: number): void {
    for (const listener of this.#listeners) listener(kind, stage, ms, records);
  }
}

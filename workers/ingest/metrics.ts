/**
 * Ingest counters and stage timings. Names are stable: the Prometheus exporter (workers/metrics.ts)
 * maps them 1:1 (halflife_ingest_<name>).
 */

export interface IngestTimings {
  /** Time kafkajs spent between our eachBatch calls (fetching, decompressing, decoding). */
  consume_ms: number;
  /** JSON.parse and UTF-8 checks. */
  parse_ms: number;
  /** Contract validation (the fast check, zod when it is unsure) and row building. */
  validate_ms: number;
  /** Look-up of already-stored ids before insert. */
  dedupe_ms: number;
  /** Rows → insert format. */
  serialize_ms: number;
  /** Engine write time of all inserts. */
  insert_ms: number;
  /** Offset commits. */
  commit_ms: number;
}

export interface IngestMetrics {
  /** Records taken from Kafka (every message, valid or not, duplicates included). */
  consumed_total: number;
  inserted_events_total: number;
  inserted_labels_total: number;
  dead_letters_total: number;
  /** Records not stored because their identity was already seen: in the batch or in storage. */
  duplicates_total: number;
  duplicates_in_batch_total: number;
  duplicates_stored_total: number;
  flushes_total: number;
  /** Failed attempts to write a batch (each is retried). */
  insert_failures_total: number;
  commit_failures_total: number;
  /**
   * Records whose `halflife-source` header did not verify (provenance-header.ts): landed with
   * their Kafka coordinate as source, not as the HTTP source they claimed.
   */
  unverified_sources_total: number;
  /** Rows of the last flushed batch (events + labels + dead letters, before storage de-dupe). */
  batch_size_last: number;
  batch_rows_sum: number;
  /** Wall time of the last flush's writes (look-up + inserts), and their sum. */
  insert_latency_ms_last: number;
  insert_latency_ms_sum: number;
  /** Per `topic:partition`: records behind the high watermark at the last fetch. */
  lag: Record<string, number>;
  lag_total: number;
  /**
   * Age (s) of the newest record taken from the partitions still behind their high watermark:
   * how far ingest trails what producers wrote; 0 when every partition is caught up.
   */
  lag_seconds: number;
  /** 1 while ingest is not consuming: ClickHouse writes fail (consumption paused) or Kafka is stalled. */
  paused: number;
  /** 1 while Kafka has answered no fetch or heartbeat for the stall time (broker unreachable, consumer crashed). */
  kafka_stalled: number;
  time_ms: IngestTimings;
}

/** Ingest as the health rule and readiness see it (detectors/monitor/health.ts IngestObservation). */
export function ingestObservation(m: IngestMetrics): { stalled: boolean; lagSeconds: number; detail?: string } {
  const stalled = m.paused === 1;
  const detail = !stalled
    ? undefined
    : m.kafka_stalled === 1
      ? 'no answer from Kafka: the broker is unreachable or the consumer is restarting'
      : 'consumption paused: ClickHouse writes are failing';
  return { stalled, lagSeconds: m.lag_seconds, ...(detail ? { detail } : {}) };
}

export function emptyMetrics(): IngestMetrics {
  return {
    consumed_total: 0,
    inserted_events_total: 0,
    inserted_labels_total: 0,
    dead_letters_total: 0,
    duplicates_total: 0,
    duplicates_in_batch_total: 0,
    duplicates_stored_total: 0,
    flushes_total: 0,
    insert_failures_total: 0,
    commit_failures_total: 0,
    unverified_sources_total: 0,
    batch_size_last: 0,
    batch_rows_sum: 0,
    insert_latency_ms_last: 0,
    insert_latency_ms_sum: 0,
    lag: {},
    lag_total: 0,
    lag_seconds: 0,
    paused: 0,
    kafka_stalled: 0,
    time_ms: { consume_ms: 0, parse_ms: 0, validate_ms: 0, dedupe_ms: 0, serialize_ms: 0, insert_ms: 0, commit_ms: 0 },
  };
}

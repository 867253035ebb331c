import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { HalflifeError } from '../errors.ts';
import { queryRows } from './client.ts';

/**
 * halflife's ClickHouse schema as an ordered list of migrations. A migration is never
 * edited once released: change the schema by appending one. `applyMigrations` records each
 * applied version with a checksum and refuses to run against a database whose recorded
 * history disagrees with this list.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'events, labels and dead letters',
    statements: [
      // One row per scoring event. ReplacingMergeTree on (model_id, event_id) is the backstop
      // for duplicates that slip past ingest's own de-duplication (two consumers racing);
      // readers that must be exact use FINAL.
      `CREATE TABLE IF NOT EXISTS scoring_events (
        event_id String,
        model_id LowCardinality(String),
        model_version LowCardinality(String),
        ts DateTime64(3, 'UTC'),
        subject_id String DEFAULT '',
        num_features Map(LowCardinality(String), Float64),
        cat_features Map(LowCardinality(String), String),
        missing_features Array(LowCardinality(String)),
        prediction_score Nullable(Float64),
        prediction_class Nullable(String),
        prediction_value Nullable(Float64),
        metadata Map(String, String),
        contract_version UInt16,
        source LowCardinality(String),
        source_ref String,
        ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMM(ts)
      ORDER BY (model_id, event_id)`,
      // Labels arrive late and may be corrected: the newest label_ts wins.
      `CREATE TABLE IF NOT EXISTS labels (
        event_id String,
        label String,
        label_numeric Nullable(Float64),
        label_ts DateTime64(3, 'UTC'),
        contract_version UInt16,
        source LowCardinality(String),
        source_ref String,
        ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(label_ts)
      ORDER BY event_id`,
      // Records that failed validation, kept whole with the reason. Keyed by where they came
      // from (topic:partition:offset) so a redelivered bad record is stored once too.
      `CREATE TABLE IF NOT EXISTS dead_letters (
        dead_letter_id String,
        received_at DateTime64(3, 'UTC') DEFAULT now64(3),
        source LowCardinality(String),
        topic String,
        partition Int32,
        offset Int64,
        record_key String,
        payload String,
        reason String,
        error_path String,
        model_id String DEFAULT ''
      ) ENGINE = ReplacingMergeTree
      ORDER BY dead_letter_id`,
    ],
  },
  {
    version: 2,
    name: 'decisions with provenance',
    statements: [
      // Append-only: a decision is never updated. Everything that drove it is kept as JSON so
      // `halflife explain` can tell the whole story without re-running anything.
      `CREATE TABLE IF NOT EXISTS decisions (
        decision_id String,
        model_id LowCardinality(String),
        model_version String,
        workflow_id String,
        run_id String,
        decided_at DateTime64(3, 'UTC'),
        kind LowCardinality(String),
        actor String,
        reason String,
        policy_name String,
        policy_version String,
        policy_hash String,
        statistics String,
        thresholds String,
        windows String,
        training_window String,
        lineage_id String,
        details String,
        recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(recorded_at)
      PARTITION BY toYYYYMM(decided_at)
      ORDER BY (model_id, decided_at, decision_id)`,
    ],
  },
  {
    version: 3,
    name: 'drift references',
    statements: [
      // One row per reference: the fixed bin cuts, counts and moments of every feature and of
      // the prediction columns, computed once in SQL (operations/build-reference.ts) and read
      // back whole (a few KB, platform/clickhouse/reference-repository.ts), so each window is
      // counted into the same bins. The id is derived from the build inputs: a retried build
      // writes the same row, which ReplacingMergeTree collapses.
      `CREATE TABLE IF NOT EXISTS references (
        model_id LowCardinality(String),
        model_version String,
        reference_id String,
        created_at DateTime64(3, 'UTC') DEFAULT now64(3),
        window_start DateTime64(3, 'UTC'),
        window_end DateTime64(3, 'UTC'),
        row_count UInt64,
        n_bins UInt16,
        profiles String
      ) ENGINE = ReplacingMergeTree(created_at)
      ORDER BY (model_id, reference_id)`,
    ],
  },
  {
    version: 4,
    name: 'model registry, training lineage, shadow results, model updates',
    statements: [
      // The current state of every model version. A stage change writes a new row with a later
      // updated_at (ReplacingMergeTree keeps the newest; readers use FINAL); the history of
      // changes is also appended to model_stage_events, which is never rewritten.
      `CREATE TABLE IF NOT EXISTS model_versions (
        model_id LowCardinality(String),
        version String,
        stage LowCardinality(String),
        artifact_uri String,
        sha256 String,
        parent_version String,
        lineage_id String,
        retrain_id String,
        trainer String,
        params String,
        metrics String,
        features String,
        code_version String,
        seed Int64,
        created_at DateTime64(3, 'UTC'),
        created_by String,
        promoted_at Nullable(DateTime64(3, 'UTC')),
        promoted_by String,
        stage_reason String,
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY (model_id, version)`,
      `CREATE TABLE IF NOT EXISTS model_stage_events (
        model_id LowCardinality(String),
        version String,
        from_stage LowCardinality(String),
        to_stage LowCardinality(String),
        actor String,
        reason String,
        at DateTime64(3, 'UTC')
      ) ENGINE = MergeTree
      ORDER BY (model_id, version, at)`,
      // One row per training snapshot, written last (after its files and lineage rows), so a
      // snapshot that exists is complete. Keyed by snapshot id, derived from the retrain id.
      `CREATE TABLE IF NOT EXISTS training_snapshots (
        snapshot_id String,
        model_id LowCardinality(String),
        retrain_id String,
        window_start DateTime64(3, 'UTC'),
        window_end DateTime64(3, 'UTC'),
        row_count UInt64,
        labelled_rows UInt64,
        train_rows UInt64,
        holdout_rows UInt64,
        skipped_rows UInt64,
        holdout_fraction Float64,
        excluded_subjects UInt64,
        content_hash String,
        features String,
        train_uri String,
        holdout_uri String,
        created_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(created_at)
      ORDER BY snapshot_id`,
      // Which records went into which snapshot ("which records trained this model?"), with the
      // subject for "which models were trained on subject X?" (bloom-filter index on subject).
      `CREATE TABLE IF NOT EXISTS training_lineage (
        snapshot_id String,
        model_id LowCardinality(String),
        event_id String,
        subject_id String,
        split LowCardinality(String),
        INDEX subject_idx subject_id TYPE bloom_filter GRANULARITY 4
      ) ENGINE = ReplacingMergeTree
      ORDER BY (snapshot_id, event_id)`,
      // Champion and challenger scores on the same events, per evaluation.
      `CREATE TABLE IF NOT EXISTS shadow_results (
        evaluation_id String,
        model_id LowCardinality(String),
        candidate_version String,
        champion_version String,
        event_id String,
        source LowCardinality(String),
        label UInt8,
        champion_score Float64,
        candidate_score Float64,
        champion_latency_ms Float64,
        candidate_latency_ms Float64,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(evaluated_at)
      ORDER BY (model_id, evaluation_id, event_id)`,
      // Model-update messages published on the control topic, keyed by idempotency key so a
      // retried activity finds its earlier publication instead of publishing again.
      `CREATE TABLE IF NOT EXISTS model_updates (
        idempotency_key String,
        model_id LowCardinality(String),
        version String,
        status LowCardinality(String),
        payload String,
        topic String,
        kafka_partition Int32,
        kafka_offset Int64,
        published_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(published_at)
      ORDER BY (model_id, idempotency_key)`,
    ],
  },
  {
    version: 5,
    name: 'access log',
    statements: [
      // Who read or changed what, when, from where, with what outcome: API requests (source
      // 'api', denied ones included) and the CLI's direct-database path (source 'cli').
      // Append-only (plain MergeTree, never updated); ordered by model for "who accessed model M".
      `CREATE TABLE IF NOT EXISTS access_log (
        access_id String,
        at DateTime64(3, 'UTC'),
        actor String,
        role LowCardinality(String),
        source LowCardinality(String),
        action LowCardinality(String),
        method LowCardinality(String),
        route String,
        path String,
        model_id String,
        model_version String,
        status UInt16,
        ip String,
        user_agent String,
        detail String
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(at)
      ORDER BY (model_id, at, access_id)`,
    ],
  },
  {
    version: 10,
    name: 'serving reports',
    statements: [
      // What each scorer says it serves (platform/registry/serving-report.ts), as ingested from
      // kafka.servingReportsTopic. Keyed by (model_id, scorer_id, seq): a redelivered report is
      // stored once. Heartbeats ('heartbeat', 'serving') age out after 30 days; what was applied,
      // refused, started or stopped is kept as the serving history.
      `CREATE TABLE IF NOT EXISTS serving_reports (
        scorer_id String,
        seq UInt64,
        event LowCardinality(String),
        model_id String,
        version String,
        sha256 String,
        serving_since Nullable(DateTime64(3, 'UTC')),
        serving_update_key String,
        routes String,
        shadow Array(String),
        serves_nothing UInt8,
        update_key String,
        update_version String,
        update_sha256 String,
        reason String,
        heartbeat_ms UInt32,
        host String,
        pid UInt32,
        reported_at DateTime64(3, 'UTC'),
        ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMM(reported_at)
      ORDER BY (model_id, scorer_id, seq)
      TTL toDateTime(reported_at) + INTERVAL 30 DAY DELETE WHERE event IN ('heartbeat', 'serving')`,
    ],
  },
  {
    version: 40,
    name: 'labels indexed for look-ups of a few event ids; dead letters indexed by arrival',
    statements: [
      // A monitor joins a window's labels by the window's event ids, and ingest looks up the
      // labels of each batch by id: a set of random ids touches about one granule per id, so with
      // 8192-row granules every look-up read nearly the whole table (its cost grew with every
      // label stored) and with 256-row granules it reads ~256 rows per id, however many labels
      // there are (BENCHMARKS.md "Fleet"). Granularity is fixed when a table is created: the table
      // is rebuilt and swapped. Each step can be re-run after a crash (the copy is dropped first,
      // and after the swap the "copy" is the old table, rebuilt again from the new one).
      'DROP TABLE IF EXISTS labels_rebuilt',
      `CREATE TABLE labels_rebuilt AS labels
      ENGINE = ReplacingMergeTree(label_ts)
      ORDER BY event_id
      SETTINGS index_granularity = 256`,
      'INSERT INTO labels_rebuilt SELECT * FROM labels',
      'EXCHANGE TABLES labels AND labels_rebuilt',
      'DROP TABLE labels_rebuilt',
      // Dead letters are keyed by where they came from; a window's are found by arrival time.
      'ALTER TABLE dead_letters ADD INDEX IF NOT EXISTS received_at_minmax received_at TYPE minmax GRANULARITY 1',
      'ALTER TABLE dead_letters MATERIALIZE INDEX received_at_minmax',
    ],
  },
  {
    version: 50,
    name: 'alert notifications and delivery attempts',
    statements: [
      // One row per alert message: its firing, each reminder, its resolution. Keyed by a
      // notification id derived from the alert's episode, so a retried record is stored once.
      // Receiver URLs and secrets are never stored: rows name receivers, not where they are.
      `CREATE TABLE IF NOT EXISTS alert_notifications (
        notification_id String,
        episode_id String,
        alert_key String,
        model_id LowCardinality(String),
        model_version String,
        rule String,
        rule_kind LowCardinality(String),
        severity LowCardinality(String),
        subject String,
        type LowCardinality(String),
        summary String,
        description String,
        details String,
        starts_at DateTime64(3, 'UTC'),
        resolved_at Nullable(DateTime64(3, 'UTC')),
        resolution String,
        notified_at DateTime64(3, 'UTC'),
        receivers Array(String),
        digest String,
        workflow_id String,
        run_id String,
        policy_name String,
        policy_version String,
        policy_hash String,
        recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(recorded_at)
      PARTITION BY toYYYYMM(notified_at)
      ORDER BY (model_id, notified_at, notification_id)`,
      // One row per attempt to send a message to a receiver (and one when halflife gave up),
      // keyed by the send and its attempt number.
      `CREATE TABLE IF NOT EXISTS alert_deliveries (
        notification_id String,
        episode_id String,
        alert_key String,
        model_id LowCardinality(String),
        receiver String,
        format LowCardinality(String),
        send String,
        attempt UInt32,
        attempted_at DateTime64(3, 'UTC'),
        outcome LowCardinality(String),
        http_status UInt16,
        error String,
        duration_ms Float64,
        payload_digest String,
        recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(recorded_at)
      PARTITION BY toYYYYMM(attempted_at)
      ORDER BY (model_id, notification_id, receiver, send, attempt)`,
    ],
  },
  {
    version: 65,
    name: 'vector features (embeddings) and their declarations',
    statements: [
      // An event's vector features on its own row, not in a table of their own: the event's
      // identity (model_id, event_id) de-duplicates them with it (ReplacingMergeTree, ingest's
      // look-ups), erasing the event erases them, and the multivariate sample reads them in the
      // same pass as its scalar features. Columnar storage keeps them out of every read that does
      // not name the column (the per-feature window counts). Float32: what embeddings are.
      `ALTER TABLE scoring_events ADD COLUMN IF NOT EXISTS vec_features Map(LowCardinality(String), Array(Float32)) DEFAULT map()`,
      // What each model declares: its vector features and their exact dimension. The newest
      // declaration of a (model, feature) wins; ingest checks every vector against it.
      `CREATE TABLE IF NOT EXISTS vector_features (
        model_id LowCardinality(String),
        feature String,
        dimension UInt32,
        declared_by String,
        declared_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(declared_at)
      ORDER BY (model_id, feature)`,
    ],
  },
  {
    version: 66,
    name: 'model kinds and class-probability vectors',
    statements: [
      // What kind of model a model id is (binary, the default when it has no row; multiclass with
      // its classes in order; regression): declared at registration, newest declaration wins. The
      // monitor reads it to know which metrics apply and which sums a window needs.
      `CREATE TABLE IF NOT EXISTS model_kinds (
        model_id LowCardinality(String),
        kind LowCardinality(String),
        classes Array(String),
        declared_by String,
        declared_at DateTime64(3, 'UTC') DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree(declared_at)
      ORDER BY model_id`,
      // A multiclass event's class probabilities on its own row, as vector features are
      // (migration 65): de-duplicated and erased with the event, read only by the queries that name it.
      `ALTER TABLE scoring_events ADD COLUMN IF NOT EXISTS prediction_probabilities Map(LowCardinality(String), Float64) DEFAULT map()`,
    ],
  },
  {
    version: 70,
    name: 'labels found by arrival time',
    statements: [
      // A monitor's late labels are the labels that arrived since its last decision. Labels are
      // ordered by event id, so finding those that arrived in a minute scanned the arrival column of
      // every label ever stored, once per read (BENCHMARKS.md "Window reads at fleet shape"). A
      // projection ordered by arrival keeps (label_ts, event_id) beside each part, so that look-up
      // reads the labels that arrived in the range only. It is part of the table: inserts, merges
      // and erasure (ALTER … DELETE) keep it; on a ReplacingMergeTree a merge rebuilds it.
      "ALTER TABLE labels MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild'",
      'ALTER TABLE labels ADD PROJECTION IF NOT EXISTS labels_by_arrival (SELECT event_id, label_ts ORDER BY label_ts)',
      'ALTER TABLE labels MATERIALIZE PROJECTION labels_by_arrival SETTINGS mutations_sync = 1',
    ],
  },
  {
    version: 71,
    name: 'outputs of a trained version on its held-out snapshot rows',
    statements: [
      // What a multiclass or regression candidate output for each held-out row of its training
      // snapshot at validation, with the label it was measured against: the rows its label-free
      // estimator is fitted on once it is promoted, before labelled events of its own exist (the
      // snapshot's events carry the outputs of the version that served them). The features stay
      // in scoring_events (joined by event id), so erasure and de-duplication hold as for the
      // event; the newest scoring of an event by a version wins.
      `CREATE TABLE IF NOT EXISTS validation_outputs (
        model_id LowCardinality(String),
        model_version String,
        snapshot_id String,
        event_id String,
        label String,
        label_numeric Nullable(Float64),
        prediction_probabilities Map(LowCardinality(String), Float64),
        prediction_value Nullable(Float64),
        scored_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(scored_at)
      ORDER BY (model_id, model_version, event_id)`,
    ],
  },
  {
    version: 72,
    name: 'shadow pairs of multiclass and regression models',
    statements: [
      // A multiclass or regression champion and challenger on the same labelled event: each side's
      // output (class probabilities by class, or the predicted number), the truth, and the per-event
      // loss the verdict compared. A table of their own: shadow_results holds a binary label and two
      // scores, which every binary reader (calibration, the dashboard) takes as such.
      `CREATE TABLE IF NOT EXISTS shadow_outcome_results (
        evaluation_id String,
        model_id LowCardinality(String),
        candidate_version String,
        champion_version String,
        event_id String,
        source LowCardinality(String),
        kind LowCardinality(String),
        loss LowCardinality(String),
        label_class String,
        label_value Nullable(Float64),
        champion_probabilities Map(LowCardinality(String), Float64),
        candidate_probabilities Map(LowCardinality(String), Float64),
        champion_value Nullable(Float64),
        candidate_value Nullable(Float64),
        champion_loss Float64,
        candidate_loss Float64,
        champion_latency_ms Float64,
        candidate_latency_ms Float64,
        evaluated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(evaluated_at)
      ORDER BY (model_id, evaluation_id, event_id)`,
    ],
  },
  {
    version: 73,
    name: 'scratch tables of ingest look-ups (embedded engine)',
    statements: [
      // The embedded engine's ingest connection looks ids up without query parameters (which
      // would put it in chDB's one-at-a-time lane behind monitor reads): it inserts the batch's
      // keys here and reads them back in the look-up (staged-keys.ts). Memory tables: a restart
      // empties them, which is all they need.
      `CREATE TABLE IF NOT EXISTS ingest_lookup_events (
        model_id String,
        event_id String
      ) ENGINE = Memory`,
      `CREATE TABLE IF NOT EXISTS ingest_lookup_labels (
        event_id String
      ) ENGINE = Memory`,
      `CREATE TABLE IF NOT EXISTS ingest_lookup_dead_letters (
        dead_letter_id String
      ) ENGINE = Memory`,
    ],
  },
  {
    version: 74,
    name: 'events sorted by minute within a model, found by time and by id',
    statements: [
      // Events were sorted by (model_id, event_id): a window of one model read every granule of
      // the model's month, and ingest's duplicate look-up of a batch (random ids of ~every model)
      // touched nearly every granule of the table, so both grew with stored history (BENCHMARKS.md
      // "Events sorted by minute"). With the timestamp's minute in the key, a time range prunes by
      // the primary key (toStartOfMinute is monotonic). The identity ReplacingMergeTree collapses
      // becomes (model, minute, event id): a re-send carries the same timestamp (the contract), so
      // redeliveries still collapse. Model first, so a long window of one model stays contiguous.
      // The look-up of a batch spans every model at one instant, which a model-first order
      // scatters over a granule per model: a projection of the identity columns ordered by time
      // serves it (the look-up reads no FINAL), reading the granules of the batch's own
      // timestamps only. Readers by event id alone (audit, a shadow's or a validation's events)
      // get a bloom filter instead of the old key. The sorting key is fixed when a table is
      // created: rebuilt and swapped as labels were (migration 40), each step re-runnable after a
      // crash. The copy reads FINAL, so duplicates stored under the old identity are one row before
      // their key changes; a merge rebuilds the projection (ReplacingMergeTree drops rows).
      'DROP TABLE IF EXISTS scoring_events_rebuilt',
      `CREATE TABLE scoring_events_rebuilt AS scoring_events
      ENGINE = ReplacingMergeTree(ingested_at)
      PARTITION BY toYYYYMM(ts)
      ORDER BY (model_id, toStartOfMinute(ts), event_id)
      SETTINGS deduplicate_merge_projection_mode = 'rebuild'`,
      'ALTER TABLE scoring_events_rebuilt ADD INDEX IF NOT EXISTS event_id_bloom event_id TYPE bloom_filter(0.01) GRANULARITY 1',
      'ALTER TABLE scoring_events_rebuilt ADD PROJECTION IF NOT EXISTS events_by_time (SELECT model_id, event_id, ts ORDER BY (ts, model_id))',
      'INSERT INTO scoring_events_rebuilt SELECT * FROM scoring_events FINAL',
      'EXCHANGE TABLES scoring_events AND scoring_events_rebuilt',
      'DROP TABLE scoring_events_rebuilt',
      // The embedded engine's staged look-up (migration 73) hands over each event's timestamp too.
      `CREATE TABLE IF NOT EXISTS ingest_lookup_event_instants (
        model_id String,
        event_id String,
        ts_ms Int64
      ) ENGINE = Memory`,
      'DROP TABLE IF EXISTS ingest_lookup_events',
    ],
  },
  {
    version: 75,
    name: "ingest's staged label look-ups carry the label time",
    statements: [
      // A stored label with the same key has the same label_ts, so a label look-up only reads
      // labels stored at the batch's label times (ingest-repository.ts existingLabelIds): the
      // staged keys carry the time. A Memory table (a restart empties it): rebuilt, not altered.
      'DROP TABLE IF EXISTS ingest_lookup_labels',
      `CREATE TABLE ingest_lookup_labels (
        event_id String,
        label_ts_ms Int64
      ) ENGINE = Memory`,
    ],
  },
  {
    version: 76,
    name: 'labels found by arrival with their values',
    statements: [
      // A tick's late labels are the newest label of each of its events that arrived since the
      // tick before. The arrival projection (migration 70) held ids and times only, so the labels
      // themselves were read again by key, a 256-row granule per id: with ids that sort at random
      // (UUIDs) 1.3M rows for a batch's 5,000 late labels (BENCHMARKS.md "A tick's reads by the
      // events' granularity"). With the label and its insert time beside them, the newest label of
      // each id that arrived in a range is read from the projection alone. It replaces the old one:
      // its readers (ingest's label look-up, labels by arrival) read the same columns from it.
      'ALTER TABLE labels ADD PROJECTION IF NOT EXISTS labels_by_arrival_values (SELECT event_id, label_ts, label_numeric, ingested_at ORDER BY label_ts)',
      'ALTER TABLE labels MATERIALIZE PROJECTION labels_by_arrival_values SETTINGS mutations_sync = 1',
      'ALTER TABLE labels DROP PROJECTION IF EXISTS labels_by_arrival',
    ],
  },
  {
    version: 77,
    name: 'fewer merge rounds for events and labels',
    statements: [
      // Ingest writes a part every second or so per table and the merge selector rewrites each row
      // about log_5(table ÷ part) times; base 10 rewrites it about a third fewer times, at the price
      // of a few more small parts. At 1,000 models the merges took 18 s of a core a minute, and 11
      // with this (BENCHMARKS.md "Merge work at fleet shape" and "Runs AB").
      'ALTER TABLE scoring_events MODIFY SETTING merge_selector_base = 10',
      'ALTER TABLE labels MODIFY SETTING merge_selector_base = 10',
    ],
  },
];

const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version UInt32,
  name String,
  checksum String,
  applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY version`;

/** Checksum of a migration's statements, so an edited, already-applied migration is caught. */
export function migrationChecksum(migration: Migration): string {
  return createHash('sha256').update(migration.statements.join('\n;\n')).digest('hex').slice(0, 16);
}

export interface MigrationResult {
  /** Schema version after the run. */
  version: number;
  /** Versions applied by this run (empty when already current). */
  applied: number[];
}

/** Bring the schema up to date. Idempotent: a second run applies nothing. */
export async function applyMigrations(
  client: ClickHouseClient,
  migrations: Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  await client.command({ query: HISTORY_TABLE });
  const recorded = await queryRows<{ version: number; name: string; checksum: string }>(
    client,
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of recorded) {
    const migration = known.get(Number(row.version));
    if (!migration) {
      throw new HalflifeError(
        `database schema is at version ${row.version} (${row.name}), newer than this halflife knows: upgrade halflife`,
      );
    }
    if (migrationChecksum(migration) !== row.checksum) {
      throw new HalflifeError(
        `migration ${row.version} (${row.name}) was changed after it was applied: append a new migration instead`,
      );
    }
  }
  const done = new Set(recorded.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements) await client.command({ query: statement });
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name, checksum: migrationChecksum(migration) }],
      format: 'JSONEachRow',
    });
    applied.push(migration.version);
  }
  const version = Math.max(0, ...migrations.map((m) => m.version));
  return { version, applied };
}

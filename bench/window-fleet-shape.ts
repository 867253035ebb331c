/**
 * Window reads at fleet shape: what the batched window read of a monitor tick costs, per window
 * and per query, as minutes of a fleet's history accumulate in the embedded engine — without the
 * daemon, Temporal or HTTP, so one process can be profiled.
 *
 *   npm run bench -- window-fleet-shape [--models 1000] [--rate 5] [--minutes 10] [--sample 60]
 *                                       [--max-batch 12] [--realtime] [--json] [--dir D]
 *
 * Data, as the fleet benchmark (bench/fleet.ts) stores it: N models, --rate events/s each with
 * the fleet's features (f1, f2, f3 numeric, region categorical, a score), stored through ingest's
 * own path (workers/ingest/http.ts `ingestHttp`: validation, the id look-ups, the raw insert) in
 * posts of --max-post events, one post after another, every simulated second; each event's label
 * posted --label-delay later. So the parts of `scoring_events` and `labels` are what ingest
 * writes (one part per post and table), and the engine merges them in the background as it does
 * in the daemon. Simulated time runs as fast as ingest stores it, or at wall-clock pace with
 * --realtime (merges then get the wall time they get in the daemon).
 *
 * After each simulated minute: the active parts and rows of both tables; the look-up + insert time
 * of each events post (p50 / p99), its duplicate look-up alone (p50 / p99, and the rows the minute's
 * last look-up read, replayed once with the engine's statistics); and a tick of --sample models' windows of that minute (labels
 * arrived by its end; the late labels of their earlier windows that arrived during it) read in
 * batches of --max-batch as the window batcher reads them, with what a monitor tick reads beside
 * its window — two ways, alternating on the same data: per model (late labels, serving and kind
 * one model at a time, as monitors read them before) and batched (late labels in the batch,
 * serving and kind once per batch). Reported: SQL ms and parameterised queries per window, split
 * per query, and per query of one batch the rows and bytes the engine read (its statistics, from
 * one extra batch read in the JSON format). One process, one query at a time: chDB's query lane.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { readWindowsBatched, type WindowReadRequest } from '../activities/window-read.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { Random } from '../detectors/random.ts';
import { buildReference } from '../operations/build-reference.ts';
import type { BatchQueryTimings } from '../platform/clickhouse/batch-windows.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodedColumns,
  encodeLabel,
  encodeScoringEvent,
  type IngestRepository,
  type StoredEventIdentity,
} from '../platform/clickhouse/ingest-repository.ts';
import { chdbRawInsert, insertCompactRows } from '../platform/clickhouse/raw-insert.ts';
import { readStatisticsClient } from '../platform/clickhouse/read-statistics.ts';
import { engineActivity, mergedParts } from '../platform/clickhouse/engine-activity-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import { modelKindOf, modelKinds } from '../platform/clickhouse/model-kind-repository.ts';
import { lateLabelledScoreGroups } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { servingStatus, servingStatuses } from '../operations/serving-status.ts';
import { ingestHttp } from '../workers/ingest/http.ts';
import { argReader, machine } from './lib/cli.ts';

const HELP = `usage: npm run bench -- window-fleet-shape [options]   (or: npx tsx bench/window-fleet-shape.ts [options])
  --models N        models (default 1000)
  --rate R          events per second per model (default 5)
  --minutes M       simulated minutes of traffic (default 10)
  --label-delay S   seconds between an event and its label (default 30)
  --max-post N      events (labels) per post, as the fleet's load generator posts (default 2000)
  --sample K        windows read after each minute, spread over the models (default 60)
  --max-batch B     windows per batched read (default 12: the fleet's batches at N = 1,000 held 6–15)
  --realtime        pace the simulated seconds at wall-clock speed (default: as fast as ingest stores)
  --table-settings S  MergeTree settings applied to the tables after the migrations, a variant to compare:
                    "name=value,..." for both tables, "labels:name=value" or "scoring_events:name=value" for one
  --ways W          how a tick's reads are read: "both" (default: per model and batched) or "batched"
  (Merged parts are kept an hour after a later merge outdates them, to count them: the data directory
  grows with every rewrite, ~2.5 GB after 14 minutes at --models 1000.)
  --json            print the result as JSON on stdout (progress goes to stderr)
  --dir D           data directory of the embedded ClickHouse (default: a new temporary one, removed after)
  --projection-cost what the labels' arrival projection (migration 70) costs ingest instead: posts of
                    --max-post labels into labels and into a copy without it, alternating (--posts, default 40)
  --events-layout-cost  what the events' layout (migration 74) costs ingest instead: posts of --max-post
                    fleet events into scoring_events, into a copy without its by-time projection and into
                    the layout before (sorted by model and id), in turn (--posts, default 40); ms and bytes
Per simulated minute: active parts and rows of scoring_events and labels, the events posts' look-up +
insert ms (p50/p99), their duplicate look-ups alone (ms p50/p99, and the rows one of them reads), and a tick's reads of the sampled windows (the batched window read, late labels,
serving, kind) two ways — per model, as before, and batched — in SQL ms and queries per window, with
the per-query split and the rows/bytes each query of one batch read; and the engine's merges in the
minute: per table the parts merges wrote (count, rows, bytes) and the rows merged per row stored so
far (write amplification), the engine's merge ms and rows. Use \`npm run -s bench\` with --json.
`;

const FEATURES = ['f1', 'f2', 'f3'] as const;
const REGIONS = ['eu', 'us', 'apac'];
const SCORE_BINS = DEFAULT_SCORE_HISTOGRAM_BINS;
const log = (line: string): void => void process.stderr.write(`[window-fleet-shape] ${line}\n`);

/** The fleet benchmark's event (bench/fleet.ts `row`), scored by a fixed logistic function. */
function fleetEvent(rng: Random, id: string, modelId: string, ts: number): { event: object; label: number } {
  const f = FEATURES.map(() => 10 * rng.next());
  const region = REGIONS[Math.floor(rng.next() * REGIONS.length)]!;
  let label = f[0]! + f[1]! <= 9 ? 1 : 0;
  if (rng.next() < 0.1) label = 1 - label;
  const score = 1 / (1 + Math.exp(f[0]! + f[1]! - 9));
  return {
    event: {
      event_id: id,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { f1: f[0], f2: f[1], f3: f[2], region },
      prediction: { score },
    },
    label,
  };
}

/** Which batched query a SQL text is (by what it reads), for the per-query statistics. */
function queryName(sql: string): string {
  if (/FROM scoring_events\s+WHERE \(model_id, ts\) IN/.test(sql)) return 'eventLookup';
  if (/FROM labels/.test(sql) && /\{ids:String\}|ingest_lookup_labels/.test(sql)) return 'labelLookup';
  if (/FROM dead_letters/.test(sql)) return 'deadLetters';
  if (/FROM model_versions/.test(sql)) return 'trainedAt';
  if (/ASOF/.test(sql)) return 'estimation';
  if (/lateStarts/.test(sql)) return 'lateLabels';
  if (/FROM labels FINAL/.test(sql)) return 'labelled';
  if (/arrayConcat\(mapKeys\(num_features\)/.test(sql)) return 'numeric';
  if (/ARRAY JOIN mapKeys\(cat_features\)/.test(sql)) return 'categorical';
  if (/score_bins/.test(sql)) return 'versions';
  return 'other';
}

interface ReadStatistics {
  rows_read: number;
  bytes_read: number;
  elapsed_ms: number;
}

/**
 * A client that adds the engine's statistics of each JSONEachRow query (rows and bytes read,
 * elapsed) into `into`, by query name (platform/clickhouse/read-statistics.ts).
 */
function statisticsClient(client: ClickHouseClient, into: Record<string, ReadStatistics>): ClickHouseClient {
  // Summed by name as they come, so nothing is kept per query over a long run.
  const counted = readStatisticsClient(client, (q) => {
    const s = (into[queryName(q.sql)] ??= { rows_read: 0, bytes_read: 0, elapsed_ms: 0 });
    s.rows_read += q.rowsRead;
    s.bytes_read += q.bytesRead;
    s.elapsed_ms += q.elapsedMs;
    counted.take();
  });
  return counted.client;
}

/** `repo` with each `existingEventIds` call's ms pushed to `into` (the rest delegated as is). */
function timedEventLookups(repo: ClickHouseIngestRepository, into: number[]): IngestRepository {
  return {
    insertEncoded: (table, lines) => repo.insertEncoded(table, lines),
    insertRows: (table, rows) => repo.insertRows(table, rows),
    existingEventIds: async (events) => {
      const t0 = performance.now();
      try {
        return await repo.existingEventIds(events);
      } finally {
        into.push(performance.now() - t0);
      }
    },
    existingLabelIds: (ids) => repo.existingLabelIds(ids),
    existingDeadLetterIds: (ids) => repo.existingDeadLetterIds(ids),
    vectorDeclarations: () => repo.vectorDeclarations(),
    modelKinds: () => repo.modelKinds(),
    countEvents: (o) => repo.countEvents(o),
    countLabels: (o) => repo.countLabels(o),
    countDeadLetters: (o) => repo.countDeadLetters(o),
  };
}

const quantile = (xs: readonly number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (x: number | null, digits = 1): number | null => (x === null ? null : Number(x.toFixed(digits)));

/** One way of reading a tick's windows: SQL ms per window in all, and per query or read. */
interface TickReads {
  ms_per_window: number;
  /** Per query of the batch, and per read beside it (late labels, serving, kind), ms per window. */
  parts_ms_per_window: Record<string, number>;
  /** Parameterised queries per window (each a turn of chDB's one-query lane). */
  queries_per_window: number;
}

interface MinuteReport {
  minute: number;
  events_stored: number;
  labels_stored: number;
  parts: Record<string, { parts: number; rows: number }>;
  post_ms_p50: number | null;
  post_ms_p99: number | null;
  /** The events posts' duplicate look-ups (`existingEventIds`), ms p50 / p99: part of the post's time. */
  event_lookup_ms_p50: number | null;
  event_lookup_ms_p99: number | null;
  /** What the look-up of the minute's last events post read, replayed once (the engine's statistics). */
  event_lookup_read: ReadStatistics;
  windows_read: number;
  /**
   * A tick's reads of the sampled windows, two ways on the same data: `per_model` as monitors read
   * them up to this change (the batch, then late labels, serving and kind one model at a time), and
   * `batched` as they read them now (late labels in the batch, serving and kind once per batch).
   */
  per_model: TickReads;
  batched: TickReads;
  /** Per query, rows and bytes read by one batch of --max-batch windows read as now (the engine's statistics). */
  one_batch_read: Record<string, ReadStatistics>;
  /**
   * Ingest's duplicate look-ups of the labels posted this minute (`existingLabelIds`, one per post):
   * ms p50 / p99 and rows the engine read per look-up (its statistics), so their growth with stored
   * labels shows.
   */
  label_lookup: {
    lookups: number;
    ms_p50: number | null;
    ms_p99: number | null;
    rows_read_per_lookup: number | null;
    /** The engine's own time per look-up (its statistics' elapsed, summed over the look-up's queries). */
    engine_ms_per_lookup: number | null;
  };
  /**
   * The merges of the minute (the engine's background pool, while ingest and the reads ran): per
   * table the parts merges wrote and, since the start, rows merges wrote per row stored (write
   * amplification); and the engine's counters over all tables (merge ms, rows merges read).
   */
  merges: {
    tables: Record<
      string,
      { merges: number; rows: number; bytes: number; write_amplification: number; active_bytes: number }
    >;
    engine: { merges: number; rows_read: number; ms: number; projection_ms: number };
  };
  load_1min: number;
}

/** The tables whose merges are counted: the two that grow with traffic. */
const MERGE_TABLES = ['scoring_events', 'labels'] as const;

/**
 * `--table-settings`: "name=value,labels:name=value" → ALTER statements. Names and values are
 * checked to be plain identifiers and numbers or quoted words, since they are written into SQL.
 */
export function tableSettingStatements(text: string): string[] {
  if (text.trim() === '') return [];
  return text
    .split(',')
    .map((item) => {
      const m = /^\s*(?:(scoring_events|labels):)?([a-z_]+)\s*=\s*(\d+|'[A-Za-z_]+')\s*$/.exec(item);
      if (!m) throw new Error(`--table-settings: "${item}" is not [scoring_events:|labels:]name=number|'word'`);
      const tables = m[1] ? [m[1]] : MERGE_TABLES;
      return tables.map((t) => `ALTER TABLE ${t} MODIFY SETTING ${m[2]} = ${m[3]}`).join(';');
    })
    .flatMap((s) => s.split(';'));
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  if (flag('events-layout-cost')) {
    await eventsLayoutCost(Number(option('max-post', '2000')), Number(option('posts', '40')), flag('json'));
    return;
  }
  if (flag('projection-cost')) {
    await projectionCost(Number(option('max-post', '2000')), Number(option('posts', '40')), flag('json'));
    return;
  }
  const models = Number(option('models', '1000'));
  const rate = Number(option('rate', '5'));
  const minutes = Number(option('minutes', '10'));
  const labelDelayS = Number(option('label-delay', '30'));
  const maxPost = Number(option('max-post', '2000'));
  const sample = Math.min(models, Number(option('sample', '60')));
  const maxBatch = Number(option('max-batch', '12'));
  const realtime = flag('realtime');
  const tableSettings = tableSettingStatements(option('table-settings', ''));
  const ways = option('ways', 'both');
  if (ways !== 'both' && ways !== 'batched') throw new Error(`--ways must be both or batched, got ${ways}`);
  for (const [name, v] of Object.entries({ models, rate, minutes, maxPost, sample, maxBatch }))
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer, got ${v}`);
  if (!(labelDelayS >= 0)) throw new Error(`--label-delay must be ≥ 0 seconds, got ${labelDelayS}`);

  const given = option('dir', '');
  const dir = given || mkdtempSync(path.join(os.tmpdir(), 'halflife-window-fleet-shape-'));
  mkdirSync(dir, { recursive: true });
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } });
  const ch: ClickHouse = await openClickHouse(config);
  // As the daemon writes: its own connection, look-ups staged (ClickHouseIngestRepository.forIngest).
  const repo = ClickHouseIngestRepository.forIngest(ch);
  const lookupMs: number[] = [];
  const ingestRepo = timedEventLookups(repo, lookupMs);
  const lookups = labelLookupRepository(ch);
  const rng = new Random(7);
  const modelIds = Array.from({ length: models }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
  // Simulated time: whole minutes, ending an hour before now (ingest refuses timestamps ahead of its clock).
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - (minutes + 60) * 60_000;
  const report: { machine: Record<string, string>; options: object; minutes: MinuteReport[] } = {
    machine: machine(),
    options: { models, rate, minutes, labelDelayS, maxPost, sample, maxBatch, realtime, tableSettings, ways },
    minutes: [],
  };
  try {
    await applyMigrations(ch.client);
    // Merged parts stay listed for an hour after a later merge outdates them, so each minute's
    // merges are counted from system.parts (chDB keeps no part_log); the merge selector reads
    // active parts only, so this does not change which merges run.
    for (const table of MERGE_TABLES)
      await ch.client.command({ query: `ALTER TABLE ${table} MODIFY SETTING old_parts_lifetime = 3600` });
    for (const statement of tableSettings) await ch.client.command({ query: statement });
    const reference = await fleetReference(ch, rng, t0);
    const countedParts = new Set<string>();
    const mergedRowsSoFar: Record<string, number> = {};
    let engineBefore = (await engineActivity(ch.client)).events;
    const sampled = Array.from({ length: sample }, (_, k) => modelIds[Math.floor((k * models) / sample)]!);
    const pendingLabels: { due: number; label: object }[] = [];
    let sequence = 0;
    let postMs: number[] = [];
    let lastPost: StoredEventIdentity[] = [];
    const wall0 = performance.now();
    for (let second = 0; second < minutes * 60; second++) {
      const now = t0 + (second + 1) * 1000;
      const events: object[] = [];
      for (const modelId of modelIds)
        for (let k = 0; k < rate; k++) {
          const ts = now - 1000 + Math.floor(rng.next() * 1000);
          const { event, label } = fleetEvent(rng, `${modelId}-${sequence++}`, modelId, ts);
          events.push(event);
          pendingLabels.push({
            due: now + labelDelayS * 1000,
            label: { event_id: (event as { event_id: string }).event_id, label, timestamp: 0 },
          });
        }
      for (let i = 0; i < events.length; i += maxPost) {
        const post = events.slice(i, i + maxPost);
        const p0 = performance.now();
        await ingestHttp(ingestRepo, post, 'events');
        postMs.push(performance.now() - p0);
        lastPost = (post as { event_id: string; model_id: string; timestamp: number }[]).map((e) => ({
          modelId: e.model_id,
          eventId: e.event_id,
          ts: e.timestamp,
        }));
      }
      let due = 0;
      while (due < pendingLabels.length && pendingLabels[due]!.due <= now) due++;
      const labels = pendingLabels.splice(0, due).map((l) => ({ ...l.label, timestamp: now }));
      for (let i = 0; i < labels.length; i += maxPost)
        await ingestHttp(lookups.repo, labels.slice(i, i + maxPost), 'labels');
      if (realtime) {
        const ahead = wall0 + (second + 1) * 1000 - performance.now();
        if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      }
      if ((second + 1) % 60 !== 0) continue;
      const minute = (second + 1) / 60;
      const windowEnd = t0 + minute * 60_000;
      // The model's earlier windows whose labels may still arrive, and the labels' arrival range.
      const earlier = Array.from({ length: Math.min(LATE_WINDOWS, minute - 1) }, (_, j) => {
        const end = windowEnd - 60_000 - j * 60_000;
        return { start: end - 60_000, end };
      }).reverse();
      const requests: WindowReadRequest[] = sampled.map((modelId) => ({
        modelId,
        start: windowEnd - 60_000,
        end: windowEnd,
        reference: { ...reference, modelId },
        labelsArrivedBy: windowEnd,
        ...(earlier.length > 0
          ? { lateLabels: { windows: earlier, arrived: { start: windowEnd - 60_000, end: windowEnd } } }
          : {}),
      }));
      // Alternating which way goes first, so neither always reads a warmer cache.
      const order =
        ways === 'batched'
          ? (['batched'] as const)
          : minute % 2 === 0
            ? (['batched', 'per_model'] as const)
            : (['per_model', 'batched'] as const);
      const reads: Partial<Record<(typeof order)[number], TickReads>> = {};
      for (const way of order) reads[way] = await tickReads(ch.client, requests, maxBatch, config, way);
      const oneBatch: Record<string, ReadStatistics> = {};
      await readWindowsBatched(statisticsClient(ch.client, oneBatch), requests.slice(0, maxBatch), SCORE_BINS);
      // The last post's look-up again (all found now): what one look-up reads at this much history.
      const lookupRead: Record<string, ReadStatistics> = {};
      await new ClickHouseIngestRepository(statisticsClient(ch.client, lookupRead)).existingEventIds(lastPost);
      const merges = await minuteMerges(ch.client, countedParts, mergedRowsSoFar, engineBefore, {
        scoring_events: sequence,
        labels: await repo.countLabels({ final: false }),
      });
      engineBefore = merges.engineNow;
      const row: MinuteReport = {
        minute,
        events_stored: sequence,
        labels_stored: await repo.countLabels({ final: false }),
        parts: await activeParts(ch.client),
        post_ms_p50: round(quantile(postMs, 0.5)),
        post_ms_p99: round(quantile(postMs, 0.99)),
        event_lookup_ms_p50: round(quantile(lookupMs, 0.5)),
        event_lookup_ms_p99: round(quantile(lookupMs, 0.99)),
        event_lookup_read: lookupRead.eventLookup ?? { rows_read: 0, bytes_read: 0, elapsed_ms: 0 },
        windows_read: requests.length,
        per_model: reads.per_model ?? { ms_per_window: 0, parts_ms_per_window: {}, queries_per_window: 0 },
        batched: reads.batched!,
        one_batch_read: oneBatch,
        label_lookup: lookups.take(),
        merges: merges.report,
        load_1min: os.loadavg()[0]!,
      };
      postMs = [];
      lookupMs.length = 0;
      report.minutes.push(row);
      const show = (r: TickReads) =>
        `${r.ms_per_window} ms/window, ${r.queries_per_window} queries/window (${Object.entries(r.parts_ms_per_window)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`;
      log(
        `minute ${minute}: ${row.events_stored} events; parts events ${row.parts.scoring_events?.parts ?? 0} / labels ${row.parts.labels?.parts ?? 0}; ` +
          `post p50 ${row.post_ms_p50} p99 ${row.post_ms_p99} ms (event look-up p50 ${row.event_lookup_ms_p50} p99 ${row.event_lookup_ms_p99} ms, ` +
          `${row.event_lookup_read.rows_read} rows read); label look-ups ${row.label_lookup.lookups}: ` +
          `p50 ${row.label_lookup.ms_p50} p99 ${row.label_lookup.ms_p99} ms, ${row.label_lookup.rows_read_per_lookup} rows read and ${row.label_lookup.engine_ms_per_lookup} engine ms each; ` +
          `labelled ${row.one_batch_read.labelled?.rows_read ?? 0} rows, late labels ${row.one_batch_read.lateLabels?.rows_read ?? 0} rows; per model: ${show(row.per_model)}; batched: ${show(row.batched)}; ` +
          `merged: ${Object.entries(row.merges.tables)
            .map(([t, m]) => `${t} ${m.merges} merges ${m.rows} rows (WA ${m.write_amplification})`)
            .join(', ')}, engine ${row.merges.engine.rows_read} rows in ${row.merges.engine.ms} ms; ` +
          `wall ${((performance.now() - wall0) / 1000).toFixed(0)} s, load ${row.load_1min.toFixed(1)}`,
      );
    }
    if (flag('json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printTable(report.minutes);
  } finally {
    await ch.close();
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An ingest repository whose label look-ups (`existingLabelIds`) are timed and whose queries keep
 * the engine's statistics, for the label posts: `take()` returns what the posts since the last
 * call cost and starts again.
 */
function labelLookupRepository(ch: ClickHouse): {
  repo: ClickHouseIngestRepository;
  take: () => MinuteReport['label_lookup'];
} {
  const stats: Record<string, ReadStatistics> = {};
  let ms: number[] = [];
  class TimedLookups extends ClickHouseIngestRepository {
    override async existingLabelIds(
      ...args: Parameters<ClickHouseIngestRepository['existingLabelIds']>
    ): Promise<Set<string>> {
      const s = performance.now();
      try {
        return await super.existingLabelIds(...args);
      } finally {
        ms.push(performance.now() - s);
      }
    }
  }
  return {
    // As ClickHouseIngestRepository.forIngest builds it: its own connection and staged look-ups when embedded.
    repo:
      ch.kind === 'embedded'
        ? new TimedLookups(statisticsClient(ch.ingestClient, stats), { lookups: 'staged' })
        : new TimedLookups(statisticsClient(ch.client, stats)),
    take: () => {
      const rows = stats.labelLookup?.rows_read ?? 0;
      const out = {
        lookups: ms.length,
        ms_p50: round(quantile(ms, 0.5)),
        ms_p99: round(quantile(ms, 0.99)),
        rows_read_per_lookup: ms.length > 0 ? Math.round(rows / ms.length) : null,
        engine_ms_per_lookup: ms.length > 0 ? round((stats.labelLookup?.elapsed_ms ?? 0) / ms.length) : null,
      };
      ms = [];
      delete stats.labelLookup;
      return out;
    },
  };
}

/** The fleet's reference: 2,000 events of the fleet's distribution an hour before the traffic, binned as a registered reference is. */
async function fleetReference(ch: ClickHouse, rng: Random, t0: number): Promise<StoredReference> {
  const modelId = 'fleet-reference';
  const start = t0 - 3_600_000;
  const events = Array.from({ length: 2000 }, (_, i) => fleetEvent(rng, `ref-${i}`, modelId, start + i).event);
  await ingestHttp(ClickHouseIngestRepository.forIngest(ch), events, 'events');
  return buildReference(ch.client, { modelId, start, end: start + 2000 });
}

/** Most earlier windows a tick's late-label read covers (the windows a monitor keeps maturing). */
const LATE_WINDOWS = 60;

/**
 * A tick's reads of `requests` (the sampled windows), in batches of `maxBatch` as the window
 * batcher reads them, with what a monitor tick reads beside its window (activities/monitor.ts
 * `collectWindow`: the late labels of its earlier windows, serving against the registry, the
 * model's kind). `per_model`: those three one model at a time, as before; `batched`: late labels
 * in the batch's queries, serving and kind read once per batch (`servingStatuses`, `modelKinds`).
 */
async function tickReads(
  client: ClickHouseClient,
  requests: readonly WindowReadRequest[],
  maxBatch: number,
  config: Parameters<typeof servingStatus>[1],
  way: 'per_model' | 'batched',
): Promise<TickReads> {
  const counted = countingClient(client);
  const parts: Record<string, number> = {};
  const timed = async <T>(name: string, read: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await read();
    } finally {
      parts[name] = (parts[name] ?? 0) + performance.now() - s;
    }
  };
  const t0 = performance.now();
  for (let i = 0; i < requests.length; i += maxBatch) {
    const batch = requests.slice(i, i + maxBatch);
    const timings: BatchQueryTimings = {};
    if (way === 'batched') {
      await timed('serving', () =>
        servingStatuses(
          counted.client,
          config,
          batch.map((r) => r.modelId),
          batch[0]!.end,
        ),
      );
      await timed('kind', () => modelKinds(counted.client));
      await readWindowsBatched(counted.client, batch, SCORE_BINS, timings);
    } else {
      await readWindowsBatched(
        counted.client,
        batch.map(({ lateLabels: _, ...r }) => r),
        SCORE_BINS,
        timings,
      );
      for (const r of batch) {
        await timed('serving', () => servingStatus(counted.client, config, r.modelId, r.end));
        await timed('kind', () => modelKindOf(counted.client, r.modelId));
        if (r.lateLabels)
          await timed('lateLabels', () =>
            lateLabelledScoreGroups(
              counted.client,
              r.modelId,
              r.lateLabels!.windows,
              r.lateLabels!.arrived,
              SCORE_BINS,
            ),
          );
      }
    }
    for (const [k, v] of Object.entries(timings)) parts[k] = (parts[k] ?? 0) + v;
  }
  const n = requests.length;
  return {
    ms_per_window: round((performance.now() - t0) / n)!,
    parts_ms_per_window: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(v / n)!])),
    queries_per_window: round(counted.queries() / n, 2)!,
  };
}

/** A client that counts the parameterised queries sent through it (each a turn of chDB's query lane). */
function countingClient(client: ClickHouseClient): { client: ClickHouseClient; queries: () => number } {
  let queries = 0;
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'query' || typeof value !== 'function') return value;
      return (params: { query_params?: Record<string, unknown> }) => {
        if (params.query_params && Object.keys(params.query_params).length > 0) queries += 1;
        return (value as (p: unknown) => unknown).call(target, params);
      };
    },
  });
  return { client: counted, queries: () => queries };
}

/**
 * What the labels' arrival projection costs ingest: the same posts of fleet labels inserted by
 * ingest's raw insert into `labels` (with the projection) and into a copy of its schema without
 * it, alternating which goes first; ms per post (median) and in all.
 */
async function projectionCost(perPost: number, posts: number, json: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-projection-cost-'));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    await ch.client.command({ query: PLAIN_LABELS_SQL });
    const times: Record<string, number[]> = { labels: [], labels_plain: [] };
    const t0 = Date.now();
    let seq = 0;
    for (let post = 0; post < posts; post++) {
      const lines = Array.from({ length: perPost }, () => {
        const i = seq++;
        return encodeLabel({
          event_id: `fleet-${String(i % 1000).padStart(4, '0')}-${i}`,
          label: String(i % 2),
          label_numeric: i % 2,
          label_ts: t0 + i,
          contract_version: 1,
          source: 'http',
          source_ref: '',
        });
      });
      for (const table of post % 2 ? ['labels', 'labels_plain'] : ['labels_plain', 'labels']) {
        const s = performance.now();
        await insertCompactRows(ch.client, chdbRawInsert(ch.client), {
          table,
          columns: encodedColumns('labels'),
          body: Buffer.from(lines.join('\n')),
          settings: { optimize_on_insert: 0 },
        });
        times[table]!.push(performance.now() - s);
      }
    }
    const result = {
      machine: machine(),
      options: { perPost, posts },
      load_1min: os.loadavg()[0],
      with_projection: {
        median_ms: round(quantile(times.labels!, 0.5)),
        total_ms: round(times.labels!.reduce((a, b) => a + b, 0)),
      },
      without: {
        median_ms: round(quantile(times.labels_plain!, 0.5)),
        total_ms: round(times.labels_plain!.reduce((a, b) => a + b, 0)),
      },
    };
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${JSON.stringify(result)}\n`);
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Raw inserts of the same posts of fleet events (1,000 models, one second each) into the events'
 * layouts, in turn: as migration 74 left it (minute in the key, event id bloom filter, the
 * by-time projection), the same without the projection, and sorted by (model, id) as before it.
 */
async function eventsLayoutCost(perPost: number, posts: number, json: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-events-layout-cost-'));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    const layouts = {
      scoring_events: null,
      events_no_projection: 'ORDER BY (model_id, toStartOfMinute(ts), event_id)',
      events_by_id: 'ORDER BY (model_id, event_id)',
    } as const;
    for (const [table, order] of Object.entries(layouts)) {
      if (order === null) continue;
      await ch.client.command({
        query: `CREATE TABLE ${table} AS scoring_events ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(ts) ${order} SETTINGS deduplicate_merge_projection_mode = 'rebuild'`,
      });
      await ch.client.command({ query: `ALTER TABLE ${table} DROP PROJECTION IF EXISTS events_by_time` });
      await ch.client.command({
        query:
          table === 'events_by_id'
            ? `ALTER TABLE ${table} DROP INDEX IF EXISTS event_id_bloom`
            : `ALTER TABLE ${table} ADD INDEX IF NOT EXISTS event_id_bloom event_id TYPE bloom_filter(0.01) GRANULARITY 1`,
      });
    }
    const tables = Object.keys(layouts);
    const times: Record<string, number[]> = Object.fromEntries(tables.map((t) => [t, []]));
    const rng = new Random(11);
    const t0 = Date.now() - 3_600_000;
    let seq = 0;
    for (let post = 0; post < posts; post++) {
      const lines = Array.from({ length: perPost }, () => {
        const i = seq++;
        const modelId = `fleet-${String(i % 1000).padStart(4, '0')}`;
        const { event } = fleetEvent(rng, `${modelId}-${i}`, modelId, t0 + Math.floor(i / 5));
        const e = event as { event_id: string; model_id: string; timestamp: number; features: Record<string, unknown> };
        return encodeScoringEvent({
          event_id: e.event_id,
          model_id: e.model_id,
          model_version: 'v1',
          ts: e.timestamp,
          subject_id: '',
          num_features: { f1: Number(e.features.f1), f2: Number(e.features.f2), f3: Number(e.features.f3) },
          cat_features: { region: String(e.features.region) },
          missing_features: [],
          prediction_score: 0.5,
          prediction_class: null,
          prediction_value: null,
          metadata: {},
          contract_version: 1,
          source: 'http',
          source_ref: '',
        });
      });
      const order = [...tables.slice(post % tables.length), ...tables.slice(0, post % tables.length)];
      for (const table of order) {
        const s = performance.now();
        await insertCompactRows(ch.client, chdbRawInsert(ch.client), {
          table,
          columns: encodedColumns('scoring_events'),
          body: Buffer.from(lines.join('\n')),
          settings: { optimize_on_insert: 0 },
        });
        times[table]!.push(performance.now() - s);
      }
    }
    const bytes = await queryRows<{ table: string; bytes: string }>(
      ch.client,
      `SELECT table, sum(bytes) AS bytes FROM (
         SELECT table, data_compressed_bytes AS bytes FROM system.parts WHERE active AND database = currentDatabase()
         UNION ALL SELECT table, data_compressed_bytes FROM system.projection_parts WHERE active AND database = currentDatabase())
       WHERE table IN {tables:Array(String)} GROUP BY table`,
      { tables },
    );
    const result = {
      machine: machine(),
      options: { perPost, posts },
      load_1min: os.loadavg()[0],
      layouts: Object.fromEntries(
        tables.map((t) => [
          t,
          {
            median_ms: round(quantile(times[t]!, 0.5)),
            total_ms: round(times[t]!.reduce((a, b) => a + b, 0)),
            compressed_bytes: Number(bytes.find((b) => b.table === t)?.bytes ?? 0),
          },
        ]),
      ),
    };
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${JSON.stringify(result)}\n`);
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `labels` as migrations 1 and 40 left it: the copy without the arrival projection. */
const PLAIN_LABELS_SQL = `CREATE TABLE labels_plain (
  event_id String, label String, label_numeric Nullable(Float64), label_ts DateTime64(3, 'UTC'),
  contract_version UInt16, source LowCardinality(String), source_ref String,
  ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(label_ts) ORDER BY event_id SETTINGS index_granularity = 256`;

/**
 * The merges since the last call: the parts merges wrote per table (each part counted once, by
 * name), rows merged per row stored since the start, and the engine's merge counters' deltas.
 */
async function minuteMerges(
  client: ClickHouseClient,
  counted: Set<string>,
  mergedRowsSoFar: Record<string, number>,
  engineBefore: Awaited<ReturnType<typeof engineActivity>>['events'],
  stored: Record<(typeof MERGE_TABLES)[number], number>,
): Promise<{ report: MinuteReport['merges']; engineNow: typeof engineBefore }> {
  const parts = await mergedParts(client, MERGE_TABLES);
  const activity = await engineActivity(client);
  const tables: MinuteReport['merges']['tables'] = {};
  for (const table of MERGE_TABLES) {
    const fresh = parts.filter((p) => p.table === table && !counted.has(`${table}/${p.name}`));
    for (const p of fresh) counted.add(`${table}/${p.name}`);
    const rows = fresh.reduce((a, p) => a + p.rows, 0);
    mergedRowsSoFar[table] = (mergedRowsSoFar[table] ?? 0) + rows;
    tables[table] = {
      merges: fresh.length,
      rows,
      bytes: fresh.reduce((a, p) => a + p.bytesOnDisk, 0),
      write_amplification: round(mergedRowsSoFar[table]! / Math.max(1, stored[table]), 2)!,
      active_bytes: activity.tables.find((t) => t.table === table)?.bytesOnDisk ?? 0,
    };
  }
  const e = activity.events;
  return {
    report: {
      tables,
      engine: {
        merges: e.Merge - engineBefore.Merge,
        rows_read: e.MergedRows - engineBefore.MergedRows,
        ms: e.MergeTotalMilliseconds - engineBefore.MergeTotalMilliseconds,
        projection_ms: e.MergeProjectionStageTotalMilliseconds - engineBefore.MergeProjectionStageTotalMilliseconds,
      },
    },
    engineNow: e,
  };
}

async function activeParts(client: ClickHouseClient): Promise<Record<string, { parts: number; rows: number }>> {
  const rows = await queryRows<{ table: string; parts: string; rows: string }>(
    client,
    `SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts
     WHERE active AND database = currentDatabase() AND table IN {tables:Array(String)} GROUP BY table`,
    { tables: ['scoring_events', 'labels'] },
  );
  return Object.fromEntries(rows.map((r) => [r.table, { parts: Number(r.parts), rows: Number(r.rows) }]));
}

function printTable(rows: readonly MinuteReport[]): void {
  process.stdout.write(
    '| minute | events | parts events / labels | post p50 / p99 ms | per model: ms/window (queries) | batched: ms/window (queries) | merged rows events / labels (WA) | merge ms | load |\n',
  );
  process.stdout.write(`|${' --- |'.repeat(9)}\n`);
  for (const r of rows)
    process.stdout.write(
      `| ${r.minute} | ${r.events_stored} | ${r.parts.scoring_events?.parts ?? 0} / ${r.parts.labels?.parts ?? 0} | ` +
        `${r.post_ms_p50} / ${r.post_ms_p99} | ${r.per_model.ms_per_window} (${r.per_model.queries_per_window}) | ` +
        `${r.batched.ms_per_window} (${r.batched.queries_per_window}) | ` +
        `${r.merges.tables.scoring_events?.rows} / ${r.merges.tables.labels?.rows} ` +
        `(${r.merges.tables.scoring_events?.write_amplification} / ${r.merges.tables.labels?.write_amplification}) | ` +
        `${r.merges.engine.ms} | ${r.load_1min.toFixed(1)} |\n`,
    );
}

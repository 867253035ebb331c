import type { ClickHouseClient } from '@clickhouse/client';
import type { HttpIngestStages } from './ingest/http-stages.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  decisionCounts,
  monitorTicks,
  storedDeadLetters,
  trainingDurations,
  type DecisionCountRow,
  type MonitorTickRow,
  type TrainingDurationRow,
} from '../platform/clickhouse/metrics-repository.ts';
import {
  deliveryCounts,
  firingAlertCounts,
  notificationCounts,
  type DeliveryCountRow,
  type FiringAlertRow,
  type NotificationCountRow,
} from '../platform/clickhouse/alerts-repository.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { RouteModule } from './api.ts';
import type { IngestMetrics } from './ingest/metrics.ts';
import type { Scorer } from './scorer.ts';
import type { WindowBatcherStats } from '../activities/window-batcher.ts';
import { QUERY_PRIORITIES, type QueryScheduler } from '../platform/clickhouse/query-scheduler.ts';
import { engineMemory } from '../platform/clickhouse/engine-memory-repository.ts';
import { engineActivity } from '../platform/clickhouse/engine-activity-repository.ts';
import { mallocHeaps, processMemory } from './process-memory.ts';
import type { WorkflowThreadMemory } from './workflow-thread-memory.ts';

/**
 * Prometheus metrics at GET /metrics.
 *
 * - Ingest counters and lag are read from the running IngestWorker's `metrics` at scrape time.
 * - Decisions by kind, monitor ticks, training durations and the stored dead-letter count are
 *   counted from ClickHouse at scrape time (cached a few seconds) rather than hooked into
 *   `recordDecision`: decisions are written by Temporal activities that may run in another
 *   process (remote ClickHouse deployments), and the tables are the record, so the numbers
 *   survive restarts and agree with `halflife decisions`. The counters are therefore totals since
 *   the table began, which is what Prometheus' rate() expects of a counter.
 * - Scorer latency: the scorer's one entry point (`scoreAndEmit`, used by Kafka and HTTP) is
 *   timed per batch; the scorer's own counters come from `Scorer.stats`.
 * - HTTP request durations per route, and Node process metrics (CPU, memory, event loop lag).
 * - Where the memory is: the process's RSS split into anonymous and file pages, the main
 *   thread's V8 heap and external memory, the ClickHouse engine's tracked memory, caches and
 *   allocator, and the workflows the Temporal worker keeps cached (ARCHITECTURE.md, "Memory").
 *
 * Access: no token when the API listens on a loopback address (the default, 127.0.0.1: only
 * local processes, e.g. a local Prometheus or agent, can reach it and the numbers carry no
 * personal data); a viewer token otherwise (Prometheus sends it with `authorization`/`bearer_token`).
 */

export interface MetricsDeps {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log: Logger;
  ingest?: { metrics: IngestMetrics };
  /** POST /v1/events and /v1/labels, stage by stage (workers/ingest/http-stages.ts). */
  httpIngestStages?: HttpIngestStages;
  scorer?: Scorer;
  /** The Temporal worker's window reads (activities/window-batcher.ts). */
  windowReads?: { stats(): WindowBatcherStats };
  /** The embedded engine's query lane (platform/clickhouse/query-scheduler.ts). */
  queryScheduler?: QueryScheduler | null;
  /** The Temporal worker, for the workflows it keeps cached. */
  temporalWorker?: { getStatus(): { numCachedWorkflows: number } };
  /** The V8 heap of the Temporal SDK's workflow thread (workers/workflow-thread-memory.ts). */
  workflowThreads?: WorkflowThreadMemory;
  /** How long ClickHouse-derived values are reused between scrapes (ms). @default 5000 */
  cacheMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Names of the alert metrics (the generated Prometheus rules read them). */
export const ALERT_METRICS = {
  firing: 'halflife_alerts_firing',
  notifications: 'halflife_alert_notifications_total',
  deliveries: 'halflife_alert_delivery_attempts_total',
} as const;

export function metricsNeedToken(config: Pick<HalflifeConfig, 'api'>): boolean {
  return !LOOPBACK.has(config.api.host);
}

const INGEST_COUNTERS: Array<[keyof IngestMetrics, string]> = [
  ['consumed_total', 'records taken from Kafka (valid or not, duplicates included)'],
  ['inserted_events_total', 'scoring events stored'],
  ['inserted_labels_total', 'labels stored'],
  ['dead_letters_total', 'records dead-lettered by this process'],
  ['duplicates_total', 'records not stored because their id was already seen'],
  ['flushes_total', 'batches written'],
  ['insert_failures_total', 'failed batch writes (each is retried)'],
  ['commit_failures_total', 'failed offset commits'],
  [
    'unverified_sources_total',
    'records whose halflife-source header did not verify (landed with their Kafka coordinate)',
  ],
];

interface StoreSnapshot {
  decisions: DecisionCountRow[];
  ticks: MonitorTickRow[];
  trainings: TrainingDurationRow[];
  deadLetters: number;
  alertsFiring: FiringAlertRow[];
  alertNotifications: NotificationCountRow[];
  alertDeliveries: DeliveryCountRow[];
}

export function createMetrics(deps: MetricsDeps): { registry: Registry; route: RouteModule } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'halflife_' });

  const ingest = deps.ingest;
  for (const [name, help] of INGEST_COUNTERS) {
    new Counter({
      name: `halflife_ingest_${name}`,
      help: `Ingest: ${help}.`,
      registers: [registry],
      collect() {
        this.reset();
        if (ingest) this.inc(Number(ingest.metrics[name]) || 0);
      },
    });
  }
  new Gauge({
    name: 'halflife_ingest_lag_records',
    help: 'Ingest: records behind the high watermark at the last fetch, per topic partition.',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [partition, lag] of Object.entries(ingest?.metrics.lag ?? {})) this.set({ partition }, lag);
    },
  });
  new Gauge({
    name: 'halflife_ingest_lag_total_records',
    help: 'Ingest: records behind the high watermark, all partitions.',
    registers: [registry],
    collect() {
      this.set(ingest?.metrics.lag_total ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_ingest_paused',
    help: 'Ingest: 1 while not consuming, because ClickHouse writes fail (consumption paused) or Kafka does not answer (halflife_ingest_kafka_stalled).',
    registers: [registry],
    collect() {
      this.set(ingest?.metrics.paused ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_ingest_kafka_stalled',
    help: 'Ingest: 1 while Kafka has answered no fetch or heartbeat for 5 s (broker unreachable, consumer restarting).',
    registers: [registry],
    collect() {
      this.set(ingest?.metrics.kafka_stalled ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_ingest_lag_seconds',
    help: 'Ingest: age of the newest record taken from partitions still behind their high watermark (0 when caught up).',
    registers: [registry],
    collect() {
      this.set(ingest?.metrics.lag_seconds ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_ingest_insert_latency_seconds_last',
    help: "Ingest: wall time of the last batch's writes.",
    registers: [registry],
    collect() {
      this.set((ingest?.metrics.insert_latency_ms_last ?? 0) / 1000);
    },
  });

  // Monitor window reads, batched across monitors: windows, batches and the SQL time they took.
  const reads = deps.windowReads;
  const readCounter = (name: string, help: string, value: (s: WindowBatcherStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        if (reads) this.inc(value(reads.stats()));
      },
    });
  readCounter('halflife_monitor_window_reads_total', 'Monitor windows read (one per tick).', (s) => s.windows);
  readCounter('halflife_monitor_window_batches_total', 'Batches the window reads were grouped into.', (s) => s.batches);
  new Counter({
    name: 'halflife_monitor_window_sql_seconds_total',
    help: 'Wall time of the window reads, per query of a batch (embedded: includes waiting for the query lane).',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [query, ms] of Object.entries(reads?.stats().queryMs ?? {})) this.inc({ query }, (ms ?? 0) / 1000);
    },
  });
  new Counter({
    name: 'halflife_monitor_window_rows_read_total',
    help: 'Rows the engine read for the window reads, per query of a batch: a query whose reads grow with stored history, not with its windows, shows here.',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [query, rows] of Object.entries(reads?.stats().queryRowsRead ?? {})) this.inc({ query }, rows ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_monitor_window_reads_waiting',
    help: 'Monitor windows waiting for their batch.',
    registers: [registry],
    collect() {
      this.set(reads?.stats().waiting ?? 0);
    },
  });
  // The embedded engine's one-at-a-time lane for parameterised queries, per priority.
  const lane = deps.queryScheduler ?? null;
  type LaneStats = ReturnType<QueryScheduler['stats']>['ingest'];
  const laneCounter = (name: string, help: string, value: (s: LaneStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['priority'],
      registers: [registry],
      collect() {
        this.reset();
        const stats = lane?.stats();
        if (stats) for (const priority of QUERY_PRIORITIES) this.inc({ priority }, value(stats[priority]));
      },
    });
  laneCounter(
    'halflife_clickhouse_queries_total',
    'Embedded: parameterised queries run, by priority.',
    (s) => s.queries,
  );
  laneCounter(
    'halflife_clickhouse_query_wait_seconds_total',
    'Embedded: time parameterised queries waited for the query lane.',
    (s) => s.waitMsTotal / 1000,
  );
  laneCounter(
    'halflife_clickhouse_query_seconds_total',
    'Embedded: time parameterised queries ran in the engine.',
    (s) => s.runMsTotal / 1000,
  );
  new Gauge({
    name: 'halflife_clickhouse_query_wait_seconds_max',
    help: 'Embedded: longest wait for the query lane since start, by priority.',
    labelNames: ['priority'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = lane?.stats();
      if (stats) for (const priority of QUERY_PRIORITIES) this.set({ priority }, stats[priority].waitMsMax / 1000);
    },
  });

  // Where the memory is (workers/process-memory.ts, platform/clickhouse/engine-memory-repository.ts).
  new Gauge({
    name: 'halflife_memory_bytes',
    help: "Process memory by part: rss, rss_anonymous, rss_file (mapped library code); the main thread's V8 heap_used, heap_total, external, array_buffers; the Temporal workflow thread's V8 workflow_heap_used, workflow_heap_total (its own isolate, where the cached workflows live); malloc_heaps (glibc malloc's resident heaps: the Temporal core's and Node's native memory).",
    labelNames: ['part'],
    registers: [registry],
    async collect() {
      const [workflowHeap, malloc] = await Promise.all([
        deps.workflowThreads?.heap() ?? Promise.resolve(null),
        mallocHeaps(),
      ]);
      this.reset();
      const m = processMemory();
      const parts: Record<string, number | null> = {
        rss: m.rss,
        rss_anonymous: m.rssAnonymous,
        rss_file: m.rssFile,
        heap_used: m.heapUsed,
        heap_total: m.heapTotal,
        external: m.external,
        array_buffers: m.arrayBuffers,
        workflow_heap_used: workflowHeap?.used ?? null,
        workflow_heap_total: workflowHeap?.total ?? null,
        malloc_heaps: malloc,
      };
      for (const [part, bytes] of Object.entries(parts)) if (bytes !== null) this.set({ part }, bytes);
    },
  });
  // Engine figures are read once per cache period, whatever the number of metrics that show them.
  const engine = cachedRead(deps, () => engineMemory(deps.clickhouse), 'metrics: ClickHouse memory unavailable');
  new Gauge({
    name: 'halflife_clickhouse_memory_bytes',
    help: "ClickHouse engine memory by part: tracked (the engine's own total), mark_cache, uncompressed_cache, primary_index_cache, query_cache, query_condition_cache, primary_key and index_granularity (the active parts' indexes in memory), merges (running), and its allocator's (jemalloc) allocator_allocated, allocator_active, allocator_metadata, allocator_resident (an upper bound) and allocator_retained (mapped, not resident). Embedded: part of this process; remote: the server's.",
    labelNames: ['part'],
    registers: [registry],
    async collect() {
      const m = await engine();
      this.reset();
      if (!m) return;
      const parts: Record<string, number | null> = {
        tracked: m.tracked,
        mark_cache: m.markCache,
        uncompressed_cache: m.uncompressedCache,
        primary_index_cache: m.primaryIndexCache,
        query_cache: m.queryCache,
        query_condition_cache: m.queryConditionCache,
        primary_key: m.primaryKey,
        index_granularity: m.indexGranularity,
        merges: m.merges,
        allocator_allocated: m.allocatorAllocated,
        allocator_active: m.allocatorActive,
        allocator_metadata: m.allocatorMetadata,
        allocator_resident: m.allocatorResident,
        allocator_retained: m.allocatorRetained,
      };
      for (const [part, bytes] of Object.entries(parts)) if (bytes !== null) this.set({ part }, bytes);
    },
  });
  const activity = cachedRead(
    deps,
    () => engineActivity(deps.clickhouse),
    'metrics: ClickHouse parts and merges unavailable',
  );
  new Gauge({
    name: 'halflife_clickhouse_parts',
    help: "Active parts of each of halflife's ClickHouse tables (a query reads every part its range touches; merges keep the count down).",
    labelNames: ['table'],
    registers: [registry],
    async collect() {
      const a = await activity();
      this.reset();
      for (const t of a?.tables ?? []) this.set({ table: t.table }, t.parts);
    },
  });
  new Gauge({
    name: 'halflife_clickhouse_table_rows',
    help: "Rows in the active parts of each of halflife's ClickHouse tables.",
    labelNames: ['table'],
    registers: [registry],
    async collect() {
      const a = await activity();
      this.reset();
      for (const t of a?.tables ?? []) this.set({ table: t.table }, t.rows);
    },
  });
  new Gauge({
    name: 'halflife_clickhouse_merges_running',
    help: 'Merges (and mutations) of halflife tables in progress.',
    registers: [registry],
    async collect() {
      const a = await activity();
      this.set(a?.mergesRunning ?? 0);
    },
  });
  new Gauge({
    name: 'halflife_clickhouse_work_total',
    help: "The engine's cumulative work counters since it started (system.events): Merge, MergedRows, MergeTotalMilliseconds, MergeProjectionStageTotalMilliseconds, SelectedParts, SelectedMarks, SelectedRows, InsertedRows, MarkCacheHits, MarkCacheMisses. A rate over a minute says what the engine did in it.",
    labelNames: ['event'],
    registers: [registry],
    async collect() {
      const a = await activity();
      this.reset();
      if (a) for (const [event, value] of Object.entries(a.events)) this.set({ event }, value);
    },
  });
  new Gauge({
    name: 'halflife_clickhouse_pool_threads',
    help: "Threads of the ClickHouse engine's global thread pool, by state: total (idle ones are kept for reuse, each with its stack and allocator cache; embedded: in this process) and active.",
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const m = await engine();
      this.reset();
      if (m?.poolThreads != null) this.set({ state: 'total' }, m.poolThreads);
      if (m?.poolThreadsActive != null) this.set({ state: 'active' }, m.poolThreadsActive);
    },
  });
  new Gauge({
    name: 'halflife_temporal_cached_workflows',
    help: "Workflows the Temporal worker keeps in its cache (each holds its state in the worker's workflow thread until evicted).",
    registers: [registry],
    collect() {
      this.set(deps.temporalWorker?.getStatus().numCachedWorkflows ?? 0);
    },
  });

  // ClickHouse-derived values, fetched once per cache period whatever the number of metrics.
  const cacheMs = deps.cacheMs ?? 5000;
  let cached: { at: number; value: Promise<StoreSnapshot> } | undefined;
  const store = (): Promise<StoreSnapshot> => {
    if (cached && Date.now() - cached.at < cacheMs) return cached.value;
    const value = (async (): Promise<StoreSnapshot> => {
      const ch = deps.clickhouse;
      const [decisions, ticks, trainings, deadLetters, alertsFiring, alertNotifications, alertDeliveries] =
        await Promise.all([
          decisionCounts(ch),
          monitorTicks(ch),
          trainingDurations(ch),
          storedDeadLetters(ch),
          firingAlertCounts(ch),
          notificationCounts(ch),
          deliveryCounts(ch),
        ]);
      return { decisions, ticks, trainings, deadLetters, alertsFiring, alertNotifications, alertDeliveries };
    })().catch((err: unknown) => {
      deps.log.warn({ err: (err as Error).message }, 'metrics: ClickHouse values unavailable');
      cached = undefined;
      return {
        decisions: [],
        ticks: [],
        trainings: [],
        deadLetters: 0,
        alertsFiring: [],
        alertNotifications: [],
        alertDeliveries: [],
      };
    });
    cached = { at: Date.now(), value };
    return value;
  };

  new Counter({
    name: 'halflife_decisions_total',
    help: 'Decisions recorded, by model and kind (no-action included).',
    labelNames: ['model', 'kind'],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const d of s.decisions) this.inc({ model: d.model_id, kind: d.kind }, Number(d.n));
    },
  });
  new Counter({
    name: 'halflife_monitor_ticks_total',
    help: 'Windows evaluated by model monitors.',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const t of s.ticks) this.inc({ model: t.model_id }, Number(t.n));
    },
  });
  new Histogram({
    name: 'halflife_training_duration_seconds',
    help: 'Training time of registered versions: from the training snapshot to the registered version.',
    labelNames: ['model'],
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const t of s.trainings) this.observe({ model: t.model_id }, Number(t.seconds));
    },
  });
  new Gauge({
    name: 'halflife_dead_letters_stored',
    help: 'Dead letters stored in ClickHouse (all time, all processes).',
    registers: [registry],
    async collect() {
      this.set((await store()).deadLetters);
    },
  });

  // Alerts: what fires now (from the record, whichever process sent it) and what was sent.
  new Gauge({
    name: ALERT_METRICS.firing,
    help: 'Alerts firing now (fired, not yet resolved), by model, rule, rule kind, subject (a health state, "breached" or "forecast"; empty for most kinds) and severity.',
    labelNames: ['model', 'rule', 'kind', 'subject', 'severity'],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const a of s.alertsFiring)
        this.set(
          { model: a.model_id, rule: a.rule, kind: a.rule_kind, subject: a.subject, severity: a.severity },
          Number(a.n),
        );
    },
  });
  new Counter({
    name: ALERT_METRICS.notifications,
    help: 'Alert messages recorded, by model, rule kind and type (firing, renotify, resolved).',
    labelNames: ['model', 'kind', 'type'],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const n of s.alertNotifications)
        this.inc({ model: n.model_id, kind: n.rule_kind, type: n.type }, Number(n.n));
    },
  });
  new Counter({
    name: ALERT_METRICS.deliveries,
    help: 'Alert delivery attempts recorded, by receiver and outcome (delivered, failed, timeout, rejected, misconfigured, gave-up).',
    labelNames: ['receiver', 'outcome'],
    registers: [registry],
    async collect() {
      const s = await store();
      this.reset();
      for (const d of s.alertDeliveries) this.inc({ receiver: d.receiver, outcome: d.outcome }, Number(d.n));
    },
  });

  const scorer = deps.scorer;
  const scorerCounters: Array<[keyof Scorer['stats'], string]> = [
    ['requests', 'scoring requests received'],
    ['scored', 'requests scored'],
    ['shadowScored', 'requests also scored by a shadow version'],
    ['invalid', 'requests that could not be parsed or validated'],
    ['unscorable', 'requests for a model without a served version'],
    ['fallbacks', 'requests served by a fallback version'],
    ['updatesApplied', 'model updates applied'],
    ['updatesRefused', 'model updates refused (bad sha256, unknown artifact)'],
    ['reportsFailed', 'serving reports that could not be sent'],
  ];
  for (const [key, help] of scorerCounters) {
    new Counter({
      name: `halflife_scorer_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
      help: `Scorer: ${help}.`,
      registers: [registry],
      collect() {
        this.reset();
        if (scorer) this.inc(scorer.stats[key]);
      },
    });
  }
  const scoreLatency = new Histogram({
    name: 'halflife_scorer_batch_duration_seconds',
    help: 'Scorer: time to score a batch and emit its scoring events, by source (kafka, http).',
    labelNames: ['source', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const scoreRows = new Counter({
    name: 'halflife_scorer_batch_rows_total',
    help: 'Scorer: requests in timed batches.',
    labelNames: ['source'],
    registers: [registry],
  });
  if (scorer) {
    // Timing the scorer's single entry point keeps metrics out of the scorer itself.
    const original = scorer.scoreAndEmit.bind(scorer);
    scorer.scoreAndEmit = async (requests, source) => {
      const end = scoreLatency.startTimer({ source });
      try {
        const results = await original(requests, source);
        end({ outcome: 'ok' });
        scoreRows.inc({ source }, requests.length);
        return results;
      } catch (err) {
        end({ outcome: 'error' });
        throw err;
      }
    };
  }

  const httpDuration = new Histogram({
    name: 'halflife_http_request_duration_seconds',
    help: 'HTTP API: request duration by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });

  const stageDuration = new Histogram({
    name: 'halflife_http_ingest_stage_seconds',
    help: 'HTTP ingest: time of each stage of POST /v1/events and /v1/labels (read, parse, declarations, validate, encode, queue, lookup, insert; log with ack=logged; response), by kind.',
    labelNames: ['kind', 'stage'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  deps.httpIngestStages?.subscribe((kind, stage, ms) => stageDuration.observe({ kind, stage }, ms / 1000));

  const route: RouteModule = (app, guard) => {
    app.addHook('onResponse', async (request, reply) => {
      // Unmatched URLs share one label, so probes cannot blow up the label set.
      httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
    app.get(
      '/metrics',
      { ...(metricsNeedToken(deps.config) ? { preHandler: guard('viewer') } : {}) },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.header('content-type', registry.contentType).send(text);
      },
    );
  };
  return { registry, route };
}

/** The daemon's entry: the /metrics route module. */
export function metricsRoutes(deps: MetricsDeps): RouteModule {
  return createMetrics(deps).route;
}

/**
 * `read` at most once per `deps.cacheMs` (@default 5000): concurrent and repeated callers share one
 * answer. A failed read is logged, answers null and is retried by the next caller.
 */
function cachedRead<T>(
  deps: { cacheMs?: number; log: Logger },
  read: () => Promise<T>,
  failure: string,
): () => Promise<T | null> {
  let cached: { at: number; value: Promise<T | null> } | undefined;
  return () => {
    if (cached && Date.now() - cached.at < (deps.cacheMs ?? 5000)) return cached.value;
    const value = read().catch((err: unknown) => {
      deps.log.warn({ err: (err as Error).message }, failure);
      cached = undefined;
      return null;
    });
    cached = { at: Date.now(), value };
    return value;
  };
}

/**
 * POST /v1/events latency during tick bursts, stage by stage, without the whole fleet:
 *
 *   npm run bench -- post-latency [--sizes 100,500,2000] [--rate 5000] [--seconds 30] [--models 1000]
 *                                 [--seed-events 300000] [--reader on|off] [--label-delay 5]
 *                                 [--ack stored,logged] [--arrival burst,spread] [--json]
 *
 * One process holds the API (the daemon's ingest routes, embedded chDB, ingest on its own
 * connection as ClickHouseIngestRepository.forIngest builds it) and, with `--reader on`, a reader
 * that runs the monitors' batched window reads (activities/window-read.ts `readWindowsBatched`,
 * 12 models' last minute a batch, back to back) on the query lane, as a fleet's tick burst keeps
 * it busy. A child process is the fleet's load generator (bench/fleet.ts `startTraffic`): every
 * second it posts --rate events of --models models in POSTs of at most N events (each of
 * --sizes in turn, --seconds each) and, --label-delay later, their labels the same way.
 *
 * `--arrival burst` sends each second's POSTs (events and the labels due) at once, as one client
 * flushing a second's buffer would; `spread` sends them evenly over the second, as many independent
 * clients (or a client flushing as it fills) do. With several, each size and mode runs once per arrival.
 *
 * With `--ack logged` the POSTs ask for `?ack=logged` (answered once Kafka holds the records): the
 * bench then also starts a local broker, and the daemon's Kafka ingest worker on the same
 * repository lands the records; with several modes each size runs once per mode, in turn.
 *
 * Reported per size and mode: the client's POST /v1/events latency p50 / p99 / max and the
 * events/s accepted (logged); the lag from a POST being sent to its events being stored
 * (`ingested_at`, set by the engine at insert) p50 / p99 / max; the server's stages of an events
 * POST (workers/ingest/http-stages.ts: read, parse, declarations, validate, encode, queue, lookup,
 * insert, log, response) p50 / p99; and the window reads done meanwhile. The first 5 s of each
 * run are not counted.
 * POSTs still unanswered 30 s after the last one count as failed (the backlog did not drain).
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readWindowsBatched, type WindowReadRequest } from '../activities/window-read.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { Random } from '../detectors/random.ts';
import { buildReference } from '../operations/build-reference.ts';
import { TokenStore } from '../platform/auth.ts';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { withQueryPriority } from '../platform/clickhouse/query-scheduler.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { buildApi } from '../workers/api.ts';
import { ingestHttp } from '../workers/ingest/http.ts';
import { HTTP_INGEST_STAGES, HttpIngestStages, type HttpIngestStage } from '../workers/ingest/http-stages.ts';
import { StoreGroups } from '../workers/ingest/store-group.ts';
import { ingestRoutes } from '../workers/routes/ingest.ts';
import { HttpIngestLog } from '../workers/ingest/http-log.ts';
import { IngestWorker } from '../workers/ingest/kafka-worker.ts';
import { HTTP_ACKNOWLEDGEMENTS, type HttpAcknowledge } from '../workers/ingest/http-acknowledge.ts';
import { ensureTopics } from '../platform/kafka.ts';
import { queryRows } from '../platform/clickhouse/client.ts';
import { startBroker, type BenchBroker } from './lib/broker.ts';
import { arrivalOf, PostPacer, type Arrival } from './lib/arrival.ts';
import { machine } from './lib/cli.ts';
import { cpuSince, threadCpu, type ThreadCpu } from './lib/thread-cpu.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,500,2000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '30' },
    models: { type: 'string', default: '1000' },
    'seed-events': { type: 'string', default: '300000' },
    reader: { type: 'string', default: 'on' },
    'group-rows': { type: 'string', default: '50000' },
    'label-delay': { type: 'string', default: '5' },
    ack: { type: 'string', default: 'stored' },
    arrival: { type: 'string', default: 'burst' },
    'landing-thread': { type: 'string', default: 'on' },
    json: { type: 'boolean', default: false },
    // Internal: the load generator runs as a child process.
    role: { type: 'string', default: 'bench' },
    url: { type: 'string' },
    token: { type: 'string' },
    'max-post': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    `${readFileHead()}\n  --sizes a,b,c   most events per POST, one run each (default 100,500,2000)\n` +
      '  --rate N        events per second, all models (default 5000)\n' +
      '  --seconds N     length of each run (default 30; the first 5 s are not counted)\n' +
      '  --models N      models the events belong to (default 1000)\n' +
      '  --seed-events N events stored before the runs, over the last 20 minutes (default 300000)\n' +
      '  --reader on|off window reads on the query lane during the runs (default on)\n' +
      '  --group-rows N  most rows one write group of concurrent POSTs holds; 1: each POST written alone (default 50000)\n' +
      '  --label-delay S labels posted this long after their events (default 5)\n' +
      '  --ack a,b       how POSTs are acknowledged, one run per mode: stored, logged (Kafka; starts a broker) (default stored)\n' +
      "  --arrival a,b   when each second's POSTs are sent, one run per arrival: burst (all at once), spread (evenly over the second) (default burst)\n" +
      "  --landing-thread on|off  Kafka ingest lands records in a worker thread (ingest.landingThread) or on the API's event loop (default on)\n" +
      '  --json          machine-readable results on stdout\n',
  );
  process.exit(0);
}

function readFileHead(): string {
  return 'Usage: npm run bench -- post-latency [options]   POST /v1/events latency during tick bursts, by stage';
}

const WARM_UP_MS = 5000;
/** How long the load generator waits for unanswered POSTs after its last one (ms). */
const DRAIN_MS = 30_000;
const REGIONS = ['eu', 'us', 'apac'];
const progress = (line: string) => process.stderr.write(`[bench:post-latency] ${line}\n`);

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** The fleet benchmark's event (bench/fleet.ts `row`): three numeric features, a region, a score. */
function fleetEvent(rng: Random, id: string, modelId: string, ts: number): { event: object; label: number } {
  const f = [10 * rng.next(), 10 * rng.next(), 10 * rng.next()];
  const region = REGIONS[Math.floor(rng.next() * REGIONS.length)]!;
  const label = f[0]! + f[1]! <= 9 ? 1 : 0;
  return {
    event: {
      event_id: id,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { f1: f[0], f2: f[1], f3: f[2], region },
      prediction: { score: 1 / (1 + Math.exp(f[0]! + f[1]! - 9)) },
    },
    label,
  };
}

const modelIdsOf = (n: number) => Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);

// ---- the load generator (child process) -------------------------------------------------------

interface PostRecord {
  at: number;
  ms: number;
  events: number;
  /** Events stored (ack=stored) or logged (ack=logged). */
  accepted: number;
  ok: boolean;
  /** Sequence number of its first event (the others follow). */
  first: number;
}

async function runLoad(): Promise<void> {
  const url = args.url!;
  const token = args.token!;
  const rate = positive('rate', args.rate!);
  const maxPost = positive('max-post', args['max-post']!);
  const ack = acknowledgeOf(args.ack!);
  const arrival = arrivalOf(args.arrival!);
  const pacer = new PostPacer(arrival, 1000);
  const seconds = positive('seconds', args.seconds!);
  const labelDelayMs = Number(args['label-delay']) * 1000;
  const modelIds = modelIdsOf(positive('models', args.models!));
  const rng = new Random(maxPost);
  const posts: PostRecord[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const pendingLabels: { due: number; label: object }[] = [];
  let sequence = 0;
  let owed = 0;
  /** Events POSTs not answered yet: when sent, and their size. */
  const unanswered = new Set<{ at: number; t0: number; events: number; first: number }>();
  const send = (route: 'events' | 'labels', records: object[], first = -1) => {
    const sent = { at: Date.now(), t0: performance.now(), events: records.length, first };
    if (route === 'events') unanswered.add(sent);
    const answered = (accepted: number, ok: boolean) => {
      if (route !== 'events' || !unanswered.delete(sent)) return;
      posts.push({ at: sent.at, ms: performance.now() - sent.t0, events: sent.events, accepted, ok, first });
    };
    const p = fetch(`${url}/v1/${route}?ack=${ack}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(records),
    })
      .then(async (r) => {
        const answer = (await r.json()) as { accepted?: number; logged?: number };
        answered(answer.accepted ?? answer.logged ?? 0, r.ok);
      })
      .catch(() => answered(0, false))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const tick = () => {
    const now = Date.now();
    owed += rate;
    const count = Math.floor(owed);
    owed -= count;
    const events: object[] = [];
    const firstOfTick = sequence;
    for (let k = 0; k < count; k++) {
      const modelId = modelIds[sequence % modelIds.length]!;
      const { event, label } = fleetEvent(
        rng,
        `${modelId}-p${maxPost}-${ack}-${arrival}-${sequence++}`,
        modelId,
        now - Math.floor(rng.next() * 1000),
      );
      events.push(event);
      pendingLabels.push({
        due: now + labelDelayMs,
        label: { event_id: (event as { event_id: string }).event_id, label, timestamp: now },
      });
    }
    const eventPosts: (() => void)[] = [];
    for (let i = 0; i < events.length; i += maxPost)
      eventPosts.push(() => send('events', events.slice(i, i + maxPost), firstOfTick + i));
    let due = 0;
    while (due < pendingLabels.length && pendingLabels[due]!.due <= now) due++;
    const labels = pendingLabels.splice(0, due).map((l) => ({ ...l.label, timestamp: now }));
    const labelPosts: (() => void)[] = [];
    for (let i = 0; i < labels.length; i += maxPost)
      labelPosts.push(() => send('labels', labels.slice(i, i + maxPost)));
    pacer.send(eventPosts, labelPosts);
  };
  const timer = setInterval(tick, 1000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  // A backlog that has not drained DRAIN_MS after the last POST is reported as such: those POSTs
  // count as failed, at the time they had waited (a lower bound of their latency).
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
  for (const sent of unanswered)
    posts.push({
      at: sent.at,
      ms: performance.now() - sent.t0,
      events: sent.events,
      accepted: 0,
      ok: false,
      first: sent.first,
    });
  // What is still in flight is abandoned.
  process.stdout.write(`${JSON.stringify(posts)}\n`, () => process.exit(0));
}

// ---- the server side and the report ------------------------------------------------------------

function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
}

interface SizeResult {
  maxPost: number;
  ack: HttpAcknowledge;
  arrival: Arrival;
  reader: boolean;
  posts: number;
  failed: number;
  postP50Ms: number | null;
  postP99Ms: number | null;
  postMaxMs: number | null;
  acceptedPerSecond: number;
  /** From a counted POST being sent to each of its events stored (ingested_at), ms. */
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** Events of the counted POSTs found stored when the lag was read. */
  lagEvents: number;
  /** Server stages of events POSTs: p50 / p99 ms. */
  stages: Record<HttpIngestStage, { p50: number | null; p99: number | null }>;
  windowReads: number;
  windowReadMsP50: number | null;
  /** CPU of this process (API, ingest, the engine's threads, the reader) per 1,000 events accepted, counted part (ms). */
  cpuMsPer1kEvents: number | null;
  /** This process's event loop delay over the counted part, p50 / p99 / max ms: time every callback (a produce's acknowledgement included) waited for the loop. */
  eventLoopDelayMs: { p50: number; p99: number; max: number } | null;
  /** The main thread's garbage collections over the counted part (perf_hooks 'gc' entries): how many, their total and longest pause, ms. */
  mainThreadGc: { count: number; totalMs: number; maxMs: number };
  /** CPU per 1,000 events accepted by thread (ms): the main (API) thread, the landing thread, the rest (engine, GC helpers, libuv). */
  cpuMsPer1kEventsByThread: { main: number; landing: number; other: number } | null;
  landingThread: boolean;
  loadAtEnd: number;
}

async function runBench(): Promise<void> {
  const sizes = args.sizes!.split(',').map((s) => positive('sizes', s));
  const rate = positive('rate', args.rate!);
  const seconds = positive('seconds', args.seconds!);
  const models = positive('models', args.models!);
  const seedEvents = Number(args['seed-events']);
  const reader = args.reader === 'on';
  const acks = args.ack!.split(',').map(acknowledgeOf);
  const arrivals = args.arrival!.split(',').map(arrivalOf);
  const landingThread = args['landing-thread'] !== 'off';
  const loadAtStart = os.loadavg()[0]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-post-'));
  // ack=logged needs a broker, and the daemon's Kafka ingest worker to land what is logged.
  const broker: BenchBroker | null = acks.includes('logged')
    ? await startBroker({ heap: '512m', onProgress: progress })
    : null;
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      logLevel: 'warn',
      ...(broker ? { kafka: { brokers: broker.brokers, partitions: 4 } } : {}),
    },
  });
  const ch = await openClickHouse(config);
  const results: SizeResult[] = [];
  let worker: IngestWorker | null = null;
  let log: HttpIngestLog | null = null;
  try {
    await applyMigrations(ch.client);
    const repo = ClickHouseIngestRepository.forIngest(ch);
    if (broker) {
      await ensureTopics(config, [config.kafka.scoringEventsTopic, config.kafka.labelsTopic]);
      // As the daemon runs them: the worker and the API share one ingest repository.
      worker = new IngestWorker({ config, repository: repo, statsIntervalMs: 0, landingThread });
      await worker.start();
      log = new HttpIngestLog(config);
    }
    const groupRows = positive('group-rows', args['group-rows']!);
    StoreGroups.configure(repo, { maxRows: groupRows });
    const rng = new Random(7);
    const modelIds = modelIdsOf(models);
    const now = Date.now();
    // A reference for the window reads, an hour back, then --seed-events over the last 20 minutes.
    const refStart = now - 3_600_000;
    const refEvents = Array.from(
      { length: 2000 },
      (_, i) => fleetEvent(rng, `ref-${i}`, 'fleet-reference', refStart + i).event,
    );
    await ingestHttp(repo, refEvents, 'events');
    const reference = await buildReference(ch.client, {
      modelId: 'fleet-reference',
      start: refStart,
      end: refStart + 2000,
    });
    progress(`seeding ${seedEvents} events and their labels`);
    const seedFrom = now - 20 * 60_000;
    for (let i = 0; i < seedEvents; i += 10_000) {
      const events: object[] = [];
      const labels: object[] = [];
      for (let k = i; k < Math.min(seedEvents, i + 10_000); k++) {
        const modelId = modelIds[k % models]!;
        const ts = seedFrom + Math.floor((k / seedEvents) * 20 * 60_000);
        const { event, label } = fleetEvent(rng, `${modelId}-seed-${k}`, modelId, ts);
        events.push(event);
        labels.push({ event_id: (event as { event_id: string }).event_id, label, timestamp: ts + 5000 });
      }
      await ingestHttp(repo, events, 'events');
      await ingestHttp(repo, labels, 'labels');
    }

    const stages = new HttpIngestStages();
    const observed: Record<string, number[]> = {};
    let counting = false;
    stages.subscribe((kind, stage, ms) => {
      if (kind === 'events' && counting) (observed[stage] ??= []).push(ms);
    });
    const token = 'bench-post-latency-token';
    const tokens = new TokenStore();
    tokens.add(token, { name: 'bench', role: 'admin' });
    const app = await buildApi({
      tokens,
      logger: createLogger('bench-post-latency', 'warn'),
      readiness: {},
      routes: [ingestRoutes(repo, undefined, stages, { default: 'stored', ...(log ? { log } : {}) })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // Requests the server is still answering: a run starts once the previous run's backlog is answered.
    let serving = 0;
    app.server.on('request', (_request, response: ServerResponse) => {
      serving++;
      response.on('close', () => serving--);
    });

    for (const maxPost of sizes)
      for (const ack of acks)
        for (const arrival of arrivals) {
          const idleFrom = performance.now();
          while (serving > 0 && performance.now() - idleFrom < IDLE_WITHIN_MS)
            await new Promise((resolve) => setTimeout(resolve, 200));
          if (performance.now() - idleFrom > 1000)
            progress(
              `  waited ${Math.round((performance.now() - idleFrom) / 1000)} s for the previous run's ${serving > 0 ? `backlog (${serving} requests still open)` : 'backlog'}`,
            );
          for (const key of Object.keys(observed)) delete observed[key];
          counting = false;
          let stopReader = false;
          const readMs: number[] = [];
          const readerDone = reader
            ? withQueryPriority('background', async () => {
                let next = 0;
                while (!stopReader) {
                  const end = Math.floor(Date.now() / 60_000) * 60_000;
                  const batch: WindowReadRequest[] = Array.from({ length: 12 }, () => ({
                    modelId: modelIds[next++ % models]!,
                    start: end - 60_000,
                    end,
                    reference,
                    labelsArrivedBy: end + 10_000,
                  }));
                  const t0 = performance.now();
                  await readWindowsBatched(ch.client, batch, DEFAULT_SCORE_HISTOGRAM_BINS);
                  if (counting) readMs.push(performance.now() - t0);
                }
              })
            : Promise.resolve();
          const cpuAt: { from: NodeJS.CpuUsage | null; threads: ThreadCpu | null } = { from: null, threads: null };
          const loopDelay = monitorEventLoopDelay({ resolution: 10 });
          const gc = { count: 0, totalMs: 0, maxMs: 0 };
          const gcObserver = new PerformanceObserver((list) => {
            if (!counting) return;
            for (const entry of list.getEntries()) {
              gc.count++;
              gc.totalMs += entry.duration;
              gc.maxMs = Math.max(gc.maxMs, entry.duration);
            }
          });
          gcObserver.observe({ entryTypes: ['gc'] });
          const warmUp = setTimeout(() => {
            counting = true;
            cpuAt.from = process.cpuUsage();
            cpuAt.threads = threadCpu();
            loopDelay.enable();
          }, WARM_UP_MS);
          progress(
            `max ${maxPost} events a POST, ack=${ack}, ${arrival} arrival, ${rate} events/s, ${seconds} s, reader ${reader ? 'on' : 'off'}`,
          );
          const posts = await loadGenerator(url, token, { rate, maxPost, seconds, models, ack, arrival });
          clearTimeout(warmUp);
          const cpu = cpuAt.from ? process.cpuUsage(cpuAt.from) : null;
          const threads = cpuAt.threads ? cpuSince(cpuAt.threads, threadCpu()) : null;
          loopDelay.disable();
          gcObserver.disconnect();
          stopReader = true;
          await readerDone;
          const startedAt = Math.min(...posts.map((p) => p.at));
          const counted = posts.filter((p) => p.at >= startedAt + WARM_UP_MS);
          const ms = counted.map((p) => p.ms);
          const countedSeconds = Math.max(1, seconds - WARM_UP_MS / 1000);
          const lag = await storeLag(ch.client, posts, counted, `%-p${maxPost}-${ack}-${arrival}-%`);
          const result: SizeResult = {
            maxPost,
            ack,
            arrival,
            reader,
            posts: counted.length,
            failed: counted.filter((p) => !p.ok).length,
            postP50Ms: quantile(ms, 0.5),
            postP99Ms: quantile(ms, 0.99),
            postMaxMs: quantile(ms, 1),
            acceptedPerSecond: Math.round(counted.reduce((s, p) => s + p.accepted, 0) / countedSeconds),
            lagP50Ms: quantile(lag, 0.5),
            lagP99Ms: quantile(lag, 0.99),
            lagMaxMs: quantile(lag, 1),
            lagEvents: lag.length,
            stages: Object.fromEntries(
              HTTP_INGEST_STAGES.map((s) => [
                s,
                { p50: quantile(observed[s] ?? [], 0.5), p99: quantile(observed[s] ?? [], 0.99) },
              ]),
            ) as SizeResult['stages'],
            windowReads: readMs.length,
            windowReadMsP50: quantile(readMs, 0.5),
            cpuMsPer1kEvents: null,
            eventLoopDelayMs:
              loopDelay.count > 0
                ? {
                    p50: Math.round(loopDelay.percentile(50) / 1e6),
                    p99: Math.round(loopDelay.percentile(99) / 1e6),
                    max: Math.round(loopDelay.max / 1e6),
                  }
                : null,
            mainThreadGc: { count: gc.count, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs * 10) / 10 },
            cpuMsPer1kEventsByThread: null,
            landingThread,
            loadAtEnd: Math.round(os.loadavg()[0]! * 10) / 10,
          };
          const accepted = counted.reduce((sum, p) => sum + p.accepted, 0);
          if (cpu && accepted > 0)
            result.cpuMsPer1kEvents = Math.round(((cpu.user + cpu.system) / 1000 / accepted) * 1000);
          if (threads && accepted > 0) {
            const per1k = (seconds: number) => Math.round(((seconds * 1000) / accepted) * 1000);
            const main = threads.get('main') ?? 0;
            const landing = threads.get('ingest-landing') ?? 0;
            result.cpuMsPer1kEventsByThread = {
              main: per1k(main),
              landing: per1k(landing),
              other: per1k((threads.get('total') ?? 0) - main - landing),
            };
          }
          results.push(result);
          progress(
            `  POST p50 ${result.postP50Ms} ms, p99 ${result.postP99Ms} ms, max ${result.postMaxMs} ms; ` +
              `sent → stored p50 ${result.lagP50Ms} ms, p99 ${result.lagP99Ms} ms, max ${result.lagMaxMs} ms (${result.lagEvents} events); ` +
              `${result.acceptedPerSecond}/${rate} ev/s accepted; ${result.failed} failed; ${result.windowReads} window batches read (p50 ${result.windowReadMsP50} ms); ${result.cpuMsPer1kEvents} CPU ms per 1k events (by thread ${JSON.stringify(result.cpuMsPer1kEventsByThread)}); main thread GC ${gc.count}× ${result.mainThreadGc.totalMs} ms, max ${result.mainThreadGc.maxMs} ms; landing thread ${landingThread ? 'on' : 'off'}; event loop delay p50/p99/max ${result.eventLoopDelayMs ? `${result.eventLoopDelayMs.p50}/${result.eventLoopDelayMs.p99}/${result.eventLoopDelayMs.max}` : '–'} ms; load ${result.loadAtEnd}`,
          );
          progress(
            `  stages p50/p99 ms: ${HTTP_INGEST_STAGES.map((s) => `${s} ${result.stages[s].p50}/${result.stages[s].p99}`).join(', ')}`,
          );
        }
    await app.close();
  } finally {
    await log?.close();
    await worker?.stop();
    await ch.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const report = {
    machine: machine(),
    loadAtStart,
    options: {
      sizes,
      acks,
      arrivals,
      rate,
      seconds,
      models,
      seedEvents,
      reader,
      landingThread,
      groupRows: Number(args['group-rows']),
    },
    results,
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

function acknowledgeOf(text: string): HttpAcknowledge {
  if (!(HTTP_ACKNOWLEDGEMENTS as readonly string[]).includes(text))
    throw new Error(
      `--ack takes ${HTTP_ACKNOWLEDGEMENTS.join(' or ')} (comma-separated for several), got ${JSON.stringify(text)}`,
    );
  return text as HttpAcknowledge;
}

/** How long a run waits for the previous run's unanswered POSTs before it starts anyway (ms). */
const IDLE_WITHIN_MS = 120_000;

/** How long the records of a run may take to land after its last POST (ack=logged) before the lag is read. */
const LAND_WITHIN_MS = 60_000;

/**
 * Per event of the `counted` POSTs: ms from its POST being sent to its row's `ingested_at`. Waits
 * (up to LAND_WITHIN_MS) until every event the run's POSTs had accepted or logged is stored.
 */
async function storeLag(
  client: Parameters<typeof queryRows>[0],
  posts: readonly PostRecord[],
  counted: readonly PostRecord[],
  idPattern: string,
): Promise<number[]> {
  const expected = posts.reduce((sum, p) => sum + p.accepted, 0);
  const deadline = performance.now() + LAND_WITHIN_MS;
  const stored = async () =>
    Number(
      (
        await queryRows<{ n: string }>(
          client,
          'SELECT count() AS n FROM scoring_events WHERE event_id LIKE {p:String}',
          {
            p: idPattern,
          },
        )
      )[0]!.n,
    );
  let found = await stored();
  while (found < expected && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    found = await stored();
  }
  if (found < expected)
    progress(`  only ${found} of ${expected} events stored ${LAND_WITHIN_MS / 1000} s after the run`);
  const sentAt = new Map<number, number>();
  for (const p of counted) for (let k = 0; k < p.events; k++) sentAt.set(p.first + k, p.at);
  const rows = await queryRows<{ event_id: string; at: string }>(
    client,
    'SELECT event_id, toUnixTimestamp64Milli(ingested_at) AS at FROM scoring_events WHERE event_id LIKE {p:String}',
    { p: idPattern },
  );
  const lag: number[] = [];
  for (const row of rows) {
    const sent = sentAt.get(Number(row.event_id.slice(row.event_id.lastIndexOf('-') + 1)));
    if (sent !== undefined) lag.push(Number(row.at) - sent);
  }
  return lag;
}

function loadGenerator(
  url: string,
  token: string,
  o: { rate: number; maxPost: number; seconds: number; models: number; ack: HttpAcknowledge; arrival: Arrival },
): Promise<PostRecord[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--role',
      'load',
      '--url',
      url,
      '--token',
      token,
      '--rate',
      String(o.rate),
      '--max-post',
      String(o.maxPost),
      '--seconds',
      String(o.seconds),
      '--models',
      String(o.models),
      '--label-delay',
      args['label-delay']!,
      '--ack',
      o.ack,
      '--arrival',
      o.arrival,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}`));
      resolve(JSON.parse(out) as PostRecord[]);
    });
  });
}

if (args.role === 'load') await runLoad();
else await runBench();

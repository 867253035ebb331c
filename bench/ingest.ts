/**
 * Ingest benchmark: sustained Kafka → ClickHouse events/s through the real worker
 * (workers/ingest/), real broker, embedded chDB, for a realistic event (20 numeric + 5
 * categorical features).
 *
 *   tsx bench/ingest.ts [--events 200000] [--batch-sizes 20000,100000] [--rate 30000]
 *                       [--live-seconds 15] [--brokers host:port] [--json] [--write-md]
 *
 * Two modes per batch size:
 *  - pre-produced: the topic is filled first, then the worker drains it — ingest alone, the
 *    producer does not compete for the 2 cores. Throughput = events / (last stored − first consumed).
 *  - live: a producer in a separate process sends at --rate events/s while the worker runs;
 *    end-to-end lag = ingested_at (set by ClickHouse at insert) − event timestamp (set at produce).
 * The breakdown comes from the worker's own cheap timers (metrics.time_ms). Insert runs on
 * chDB's native threads while JS keeps parsing the next batch, so the parts can sum to more
 * than the wall time.
 * CPU per stored event is the primary figure on a shared machine (wall time grows with other
 * jobs, CPU barely does): this process's threads by name from /proc (main = JavaScript; the
 * engine's own threads; `node` = V8's GC helpers and libuv's pool, where chDB's calls run) and
 * the broker's JVM, also net of what it burns idle. The pre-producers run in child processes,
 * so `node --cpu-prof --import tsx bench/ingest.ts …` profiles ingest alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openClickHouse, queryRows, type ClickHouseClient } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { ClickHouseIngestRepository } from '../platform/clickhouse/ingest-repository.ts';
import { loadConfig, type HalflifeConfig } from '../platform/config.ts';
import { createKafka, createProducer, ensureTopics } from '../platform/kafka.ts';
import { IngestWorker } from '../workers/ingest/kafka-worker.ts';
import type { IngestTimings } from '../workers/ingest/metrics.ts';
import { startBroker } from './lib/broker.ts';
import { cpuSince, threadCpu, type ThreadCpu } from './lib/thread-cpu.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'batch-sizes': { type: 'string', default: '20000,100000' },
    rate: { type: 'string', default: '30000' },
    'live-seconds': { type: 'string', default: '15' },
    partitions: { type: 'string', default: '4' },
    producers: { type: 'string', default: '2' },
    'broker-heap': { type: 'string', default: '1g' },
    brokers: { type: 'string' },
    'landing-thread': { type: 'string', default: 'on' },
    json: { type: 'boolean', default: false },
    'write-md': { type: 'boolean', default: false },
    // Internal: the live producer runs as a child process of the benchmark.
    role: { type: 'string', default: 'bench' },
    topic: { type: 'string' },
    'model-id': { type: 'string' },
    first: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  process.stdout.write(`Usage: npm run bench -- ingest [options]   (or: npx tsx bench/ingest.ts [options])

Sustained Kafka → ClickHouse ingest on a local broker: pre-produced (ingest alone) and live
(producer running), batch sizes swept, end-to-end lag p50/p99, time per stage.

  --events N           events per pre-produced run (default 200000)
  --batch-sizes a,b,c  ingest batch sizes to sweep (default 20000,100000)
  --rate N             live producer target events/s (default 30000)
  --live-seconds N     length of the live run (default 15)
  --partitions N       topic partitions (default 4)
  --producers N        producer processes filling the pre-produced topic (default 2)
  --broker-heap SIZE   heap of the broker this bench starts (default 1g)
  --brokers host:port  use this broker instead of starting one
  --landing-thread on|off  land records in a worker thread (ingest.landingThread) or on the main thread (default on)
  --json               machine-readable results on stdout
  --write-md           write the Ingest section of BENCHMARKS.md
`);
  process.exit(0);
}

const progress = (line: string) => process.stderr.write(`[bench:ingest] ${line}\n`);

/** A realistic scoring event: 20 numeric and 5 categorical features, a score. */
function benchEvent(i: number, modelId: string, ts: number): string {
  const features: Record<string, number | string> = {};
  for (let f = 0; f < 20; f++) features[`num_${f}`] = Math.round(((i * 7919 + f * 104729) % 100_000) / 7) / 1000;
  for (let c = 0; c < 5; c++) features[`cat_${c}`] = `level_${(i + c * 13) % (5 + c * 7)}`;
  return JSON.stringify({
    event_id: `${modelId}-${i}`,
    model_id: modelId,
    model_version: '3',
    timestamp: ts,
    features,
    prediction: { score: (i % 997) / 997 },
  });
}

function baseConfig(
  brokers: string,
  dataDir: string,
  extra: { topic: string; groupId: string; batchSize: number; partitions: number },
): HalflifeConfig {
  return loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel: 'warn',
      kafka: {
        brokers,
        scoringEventsTopic: extra.topic,
        labelsTopic: `${extra.topic}-labels`,
        partitions: extra.partitions,
      },
      ingest: { groupId: extra.groupId, batchSize: extra.batchSize, batchMaxWaitMs: 1000, maxRetryBackoffMs: 5000 },
    },
  });
}

/** Produce `count` events as fast as the producer goes, or at `rate`/s; returns events/s achieved. */
async function produce(
  brokers: string,
  topic: string,
  modelId: string,
  count: number,
  rate?: number,
  seconds?: number,
  first = 0,
): Promise<{ sent: number; perSec: number }> {
  const config = baseConfig(brokers, os.tmpdir(), { topic, groupId: 'unused', batchSize: 1, partitions: 4 });
  const producer = createProducer(createKafka(config, { clientId: 'halflife-bench-producer' }));
  await producer.connect();
  const t0 = performance.now();
  let sent = 0;
  const chunk = rate ? Math.max(100, Math.round(rate / 20)) : 4000;
  try {
    const endAt = seconds ? t0 + seconds * 1000 : Infinity;
    while (sent < count && performance.now() < endAt) {
      const now = Date.now();
      const messages = [];
      for (let i = 0; i < chunk && sent + i < count; i++)
        messages.push({ key: String(first + sent + i), value: benchEvent(first + sent + i, modelId, now) });
      await producer.send({ topic, acks: -1, messages });
      sent += messages.length;
      if (rate) {
        // Pace: the sent count may not run ahead of the wall clock.
        const ahead = (sent / rate) * 1000 - (performance.now() - t0);
        if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { sent, perSec: sent / ((performance.now() - t0) / 1000) };
}

/**
 * Run the producer role in a child process (so its CPU is not the ingest process's): paced at
 * `rate` for `seconds`, or, with rate 0, `count` events from index `first` as fast as it goes.
 */
function producerChild(
  brokers: string,
  topic: string,
  modelId: string,
  options: { rate: number; seconds: number; count: number; first: number },
): Promise<{ sent: number; perSec: number }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/ingest.ts',
      '--role',
      'producer',
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--model-id',
      modelId,
      '--rate',
      String(options.rate),
      '--live-seconds',
      String(options.seconds),
      '--events',
      String(options.count),
      '--first',
      String(options.first),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`producer exited with ${code}`));
      resolve(JSON.parse(out) as { sent: number; perSec: number });
    }),
  );
}

/** CPU µs per stored event of the ingest process (by thread name) and of the broker's JVM. */
interface CpuPerEvent {
  /** The ingest process: every thread, the engine's included. */
  ingestProcess: number;
  /** Its main thread: JavaScript (kafkajs, parsing, validation, encoding) and the main thread's GC. */
  mainThread: number;
  /** Its other threads by name (the engine's, V8's GC helpers, libuv), largest first. */
  otherThreads: Record<string, number>;
  /** The broker's JVM (null when the bench did not start the broker). */
  broker: number | null;
  /** The same less what the broker burns idle over the run's wall time (its own timers and GC). */
  brokerLessIdle: number | null;
  /** Wall seconds of the measurement, for CPU utilisation. */
  wallSeconds: number;
}

/** The broker JVM's CPU seconds per wall second with no client traffic; measured once per bench. */
let brokerIdleCpuPerSecond = 0;

async function measureBrokerIdle(pid: number | undefined, seconds: number): Promise<number> {
  if (pid === undefined) return 0;
  const before = threadCpu(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuSince(before, threadCpu(pid)).get('total') ?? 0) / seconds;
}

function cpuPerEvent(ingest: ThreadCpu, broker: ThreadCpu | null, events: number, wallSeconds: number): CpuPerEvent {
  const us = (seconds: number) => Math.round((seconds / events) * 1e6 * 100) / 100;
  const others = [...ingest]
    .filter(([name]) => name !== 'total' && name !== 'main')
    .sort((a, b) => b[1] - a[1])
    .filter(([, seconds]) => us(seconds) >= 0.05);
  return {
    ingestProcess: us(ingest.get('total') ?? 0),
    mainThread: us(ingest.get('main') ?? 0),
    otherThreads: Object.fromEntries(others.map(([name, seconds]) => [name, us(seconds)])),
    broker: broker ? us(broker.get('total') ?? 0) : null,
    brokerLessIdle: broker ? us((broker.get('total') ?? 0) - brokerIdleCpuPerSecond * wallSeconds) : null,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
  };
}

interface RunResult {
  mode: 'pre-produced' | 'live';
  batchSize: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  producerPerSec: number | null;
  flushes: number;
  /** Events/s between 10% and 90% of the events stored: the steady state, without start-up and tail. */
  steadyEventsPerSec: number;
  steadySeconds: number;
  cpuUsPerEvent: CpuPerEvent;
  /** 1-minute load average at the start and end of the run. */
  load: [number, number];
  /** ms per 1000 events, by stage. */
  breakdownMsPer1k: Record<keyof IngestTimings, number>;
}

interface WorkerRun {
  seconds: number;
  worker: IngestWorker;
  steadyEventsPerSec: number;
  steadySeconds: number;
  cpu: CpuPerEvent;
}

async function runWorker(
  config: HalflifeConfig,
  repo: ClickHouseIngestRepository,
  expected: () => number,
  label: string,
  brokerPid: number | undefined,
): Promise<WorkerRun> {
  const worker = new IngestWorker({
    config,
    repository: repo,
    statsIntervalMs: 0,
    landingThread: args['landing-thread'] !== 'off',
  });
  const t0 = performance.now();
  await worker.start();
  // From here: a landing thread's start (a loader and its modules compiled) is not ingest's work per event.
  const cpuBefore = threadCpu();
  const brokerBefore = brokerPid === undefined ? null : threadCpu(brokerPid);
  const m = worker.metrics;
  let firstAt = 0;
  let lastReport = 0;
  // Steady state: from 10% to 90% of the expected events stored (the ends are start-up and tail).
  let tenPercent: { at: number; stored: number } | undefined;
  let ninetyPercent: { at: number; stored: number } | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = performance.now();
    if (firstAt === 0 && m.consumed_total > 0) firstAt = now;
    const stored = m.inserted_events_total;
    if (expected() > 0 && !tenPercent && stored >= expected() * 0.1) tenPercent = { at: now, stored };
    if (expected() > 0 && !ninetyPercent && stored >= expected() * 0.9) ninetyPercent = { at: now, stored };
    if (now - lastReport > 1000) {
      lastReport = now;
      const secs = firstAt ? (now - firstAt) / 1000 : 0;
      progress(
        `${label}: stored ${m.inserted_events_total}/${expected() || '?'} events, ${secs > 0 ? Math.round(m.inserted_events_total / secs) : 0}/s, lag ${m.lag_total}`,
      );
    }
    if (expected() > 0 && m.inserted_events_total >= expected()) break;
  }
  const end = performance.now();
  const cpu = cpuPerEvent(
    cpuSince(cpuBefore, threadCpu()),
    brokerBefore && brokerPid !== undefined ? cpuSince(brokerBefore, threadCpu(brokerPid)) : null,
    m.inserted_events_total,
    (end - t0) / 1000,
  );
  const seconds = (end - firstAt) / 1000;
  await worker.stop();
  const steadySeconds = tenPercent && ninetyPercent ? (ninetyPercent.at - tenPercent.at) / 1000 : seconds;
  const steadyEvents = tenPercent && ninetyPercent ? ninetyPercent.stored - tenPercent.stored : m.inserted_events_total;
  return {
    seconds,
    worker,
    steadyEventsPerSec: steadySeconds > 0 ? Math.round(steadyEvents / steadySeconds) : 0,
    steadySeconds: Math.round(steadySeconds * 10) / 10,
    cpu,
  };
}

function breakdown(t: IngestTimings, events: number): Record<keyof IngestTimings, number> {
  const per1k = (ms: number) => Math.round((ms / events) * 1000 * 100) / 100;
  return {
    consume_ms: per1k(t.consume_ms),
    parse_ms: per1k(t.parse_ms),
    validate_ms: per1k(t.validate_ms),
    dedupe_ms: per1k(t.dedupe_ms),
    serialize_ms: per1k(t.serialize_ms),
    insert_ms: per1k(t.insert_ms),
    commit_ms: per1k(t.commit_ms),
  };
}

async function lagQuantiles(client: ClickHouseClient, modelId: string): Promise<{ p50: number; p99: number }> {
  const [row] = await queryRows<{ q: number[] }>(
    client,
    'SELECT quantilesExact(0.5, 0.99)(toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(ts)) AS q FROM scoring_events WHERE model_id = {m:String}',
    { m: modelId },
  );
  return { p50: Number(row?.q[0] ?? NaN), p99: Number(row?.q[1] ?? NaN) };
}

/** Each run starts from empty tables, so the pre-insert look-ups see the same table size. */
async function truncate(client: ClickHouseClient): Promise<void> {
  for (const t of ['scoring_events', 'labels', 'dead_letters'])
    await client.command({ query: `TRUNCATE TABLE IF EXISTS ${t}` });
}

function machine(): Record<string, string> {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? 'unknown';
  const mem = execFileSync('free', ['-h'], { encoding: 'utf8' }).split('\n')[1]?.trim().split(/\s+/)[1] ?? '?';
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
    memory: mem,
    cpu,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

async function main(): Promise<void> {
  if (args.role === 'producer') {
    // --rate 0: as fast as it goes, --events of them (pre-producing); else paced for --live-seconds.
    const paced = Number(args.rate) > 0;
    const r = await produce(
      args.brokers!,
      args.topic!,
      args['model-id']!,
      paced ? Number.MAX_SAFE_INTEGER : Number(args.events),
      paced ? Number(args.rate) : undefined,
      paced ? Number(args['live-seconds']) : undefined,
      Number(args.first),
    );
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const events = Number(args.events);
  const batchSizes = args['batch-sizes']!.split(',').map(Number);
  const partitions = Number(args.partitions);
  const rate = Number(args.rate);
  const liveSeconds = Number(args['live-seconds']);
  const loadBefore = os.loadavg()[0]!;
  const producers = Math.max(1, Number(args.producers));
  const broker = await startBroker({ brokers: args.brokers, heap: args['broker-heap'], onProgress: progress });
  // Interrupted: stop the broker we started, leave no JVM behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping the broker`);
      void broker.stop().finally(() => process.exit(130));
    });
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-ingest-'));
  const results: RunResult[] = [];
  let producePerSec: number;
  try {
    const run = Date.now().toString(36);
    const preTopic = `bench-pre-${run}`;
    const config0 = baseConfig(broker.brokers, dataDir, { topic: preTopic, groupId: 'g', batchSize: 1, partitions });
    const ch = await openClickHouse(config0);
    await applyMigrations(ch.client);
    const repo = ClickHouseIngestRepository.forIngest(ch);
    await ensureTopics(config0, [preTopic, `${preTopic}-labels`]);
    progress(`pre-producing ${events} events to ${preTopic} (${partitions} partitions)`);
    const modelPre = `bench-${run}`;
    // In child processes, so this process's CPU (and a --cpu-prof profile of it) is ingest's alone.
    const share = Math.ceil(events / producers);
    const produceStart = performance.now();
    const parts = await Promise.all(
      Array.from({ length: producers }, (_, p) =>
        producerChild(broker.brokers, preTopic, modelPre, {
          rate: 0,
          seconds: 0,
          count: Math.max(0, Math.min(share, events - p * share)),
          first: p * share,
        }),
      ),
    );
    const pre = { sent: parts.reduce((n, r) => n + r.sent, 0), perSec: 0 };
    pre.perSec = pre.sent / ((performance.now() - produceStart) / 1000);
    producePerSec = pre.perSec;
    progress(
      `produced ${pre.sent} in ${(pre.sent / pre.perSec).toFixed(1)} s (${Math.round(pre.perSec)}/s, ${producers} producer processes)`,
    );

    brokerIdleCpuPerSecond = await measureBrokerIdle(broker.pid(), 10);
    progress(`broker idle: ${brokerIdleCpuPerSecond.toFixed(3)} CPU s per s`);
    for (const batchSize of batchSizes) {
      await truncate(ch.client);
      const config = baseConfig(broker.brokers, dataDir, {
        topic: preTopic,
        groupId: `bench-${run}-${batchSize}`,
        batchSize,
        partitions,
      });
      const loadStart = os.loadavg()[0]!;
      const { seconds, worker, steadyEventsPerSec, steadySeconds, cpu } = await runWorker(
        config,
        repo,
        () => events,
        `pre-produced batch=${batchSize}`,
        broker.pid(),
      );
      const m = worker.metrics;
      results.push({
        mode: 'pre-produced',
        batchSize,
        events: m.inserted_events_total,
        seconds: Math.round(seconds * 100) / 100,
        eventsPerSec: Math.round(m.inserted_events_total / seconds),
        lagP50Ms: null,
        lagP99Ms: null,
        producerPerSec: null,
        flushes: m.flushes_total,
        steadyEventsPerSec,
        steadySeconds,
        cpuUsPerEvent: cpu,
        load: [round2(loadStart), round2(os.loadavg()[0]!)],
        breakdownMsPer1k: breakdown(m.time_ms, m.inserted_events_total),
      });
      progress(
        `pre-produced batch=${batchSize}: ${results.at(-1)!.eventsPerSec}/s (steady ${steadyEventsPerSec}/s over ${steadySeconds} s); CPU µs/event ${JSON.stringify(cpu)}`,
      );
    }

    for (const batchSize of liveSeconds > 0 ? batchSizes : []) {
      await truncate(ch.client);
      const topic = `bench-live-${run}-${batchSize}`;
      const modelId = `live-${run}-${batchSize}`;
      const config = baseConfig(broker.brokers, dataDir, {
        topic,
        groupId: `bench-live-${run}-${batchSize}`,
        batchSize,
        partitions,
      });
      await ensureTopics(config, [topic, `${topic}-labels`]);
      let produced = 0;
      let producerPerSec = 0;
      const done = producerChild(broker.brokers, topic, modelId, {
        rate,
        seconds: liveSeconds,
        count: 0,
        first: 0,
      }).then((r) => {
        produced = r.sent;
        producerPerSec = r.perSec;
      });
      const loadStart = os.loadavg()[0]!;
      const [{ seconds, worker, steadyEventsPerSec, steadySeconds, cpu }] = await Promise.all([
        runWorker(config, repo, () => produced, `live rate=${rate}/s batch=${batchSize}`, broker.pid()),
        done,
      ]);
      const m = worker.metrics;
      const lag = await lagQuantiles(ch.client, modelId);
      results.push({
        mode: 'live',
        batchSize,
        events: m.inserted_events_total,
        seconds: Math.round(seconds * 100) / 100,
        eventsPerSec: Math.round(m.inserted_events_total / seconds),
        lagP50Ms: lag.p50,
        lagP99Ms: lag.p99,
        producerPerSec: Math.round(producerPerSec),
        flushes: m.flushes_total,
        steadyEventsPerSec,
        steadySeconds,
        cpuUsPerEvent: cpu,
        load: [round2(loadStart), round2(os.loadavg()[0]!)],
        breakdownMsPer1k: breakdown(m.time_ms, m.inserted_events_total),
      });
      progress(`live batch=${batchSize}: ${results.at(-1)!.eventsPerSec}/s, lag p50 ${lag.p50} ms p99 ${lag.p99} ms`);
    }
    await ch.close();
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const command = `npx tsx bench/ingest.ts ${process.argv.slice(2).join(' ')}`.trim();
  // Other work on the machine skews a 2-core benchmark: record the 1-minute load average.
  const load = { before: Math.round(loadBefore * 100) / 100, after: Math.round(os.loadavg()[0]! * 100) / 100 };
  const report = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    command,
    machine: machine(),
    load,
    events,
    producerAlonePerSec: Math.round(producePerSec),
    liveRate: rate,
    results,
  };
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printTable(report.results);
  if (args['write-md']) writeMarkdown(report);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function printTable(results: RunResult[]): void {
  for (const r of results) {
    process.stdout.write(
      `${r.mode.padEnd(13)} batch=${String(r.batchSize).padEnd(6)} ${String(r.eventsPerSec).padStart(7)} ev/s (steady ${r.steadyEventsPerSec} over ${r.steadySeconds} s, load ${r.load.join('→')})  lag p50=${r.lagP50Ms ?? '-'} p99=${r.lagP99Ms ?? '-'} ms  ${JSON.stringify(r.breakdownMsPer1k)}\n` +
        `${''.padEnd(13)} CPU µs/event: ingest process ${r.cpuUsPerEvent.ingestProcess} (main thread ${r.cpuUsPerEvent.mainThread}, ${JSON.stringify(r.cpuUsPerEvent.otherThreads)}), broker ${r.cpuUsPerEvent.broker ?? '-'} (${r.cpuUsPerEvent.brokerLessIdle ?? '-'} less idle)\n`,
    );
  }
}

function writeMarkdown(report: {
  date: string;
  command: string;
  machine: Record<string, string>;
  load: { before: number; after: number };
  events: number;
  producerAlonePerSec: number;
  liveRate: number;
  results: RunResult[];
}): void {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  const rows = report.results.map((r) => {
    const b = r.breakdownMsPer1k;
    return `| ${r.mode} | ${r.batchSize} | ${r.events} | ${r.eventsPerSec.toLocaleString('en-US')} | ${r.lagP50Ms ?? '–'} | ${r.lagP99Ms ?? '–'} | ${b.consume_ms} | ${b.parse_ms} | ${b.validate_ms} | ${b.dedupe_ms} | ${b.serialize_ms} | ${b.insert_ms} | ${b.commit_ms} |`;
  });
  const section = [
    '<!-- ingest:begin (generated by `tsx bench/ingest.ts --write-md`; the analysis below the table is hand-written) -->',
    `Run ${report.date} — \`${report.command}\``,
    '',
    `Machine: ${report.machine.nproc} cores (nproc), ${report.machine.memory} RAM, ${report.machine.cpu}, Node ${report.machine.node}, ${report.machine.os}. 1-minute load average before/after: ${report.load.before}/${report.load.after}.`,
    `Producer alone (kafkajs, acks=all, 4000-message requests): ${report.producerAlonePerSec.toLocaleString('en-US')} events/s. Live runs: producer in its own process at ${report.liveRate.toLocaleString('en-US')} events/s target.`,
    '',
    '| mode | batch | events | events/s | lag p50 ms | lag p99 ms | consume | parse | validate | dedupe | serialize | insert | commit |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    "Stage columns: milliseconds per 1,000 stored events, from the worker's own timers (`metrics.time_ms`). `consume` is time inside kafkajs between our eachBatch calls; `insert` runs on chDB's native threads concurrently with JS parsing the next batch, so stages can add up to more than the wall time.",
    '<!-- ingest:end -->',
  ].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const begin = text.indexOf('<!-- ingest:begin');
  const end = text.indexOf('<!-- ingest:end -->');
  if (begin >= 0 && end > begin) {
    text = text.slice(0, begin) + section + text.slice(end + '<!-- ingest:end -->'.length);
  } else {
    text = `${text.trimEnd()}\n\n## Ingest (Kafka → ClickHouse)\n\n${section}\n`;
  }
  writeFileSync(file, text);
  progress(`wrote ${file}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:ingest] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

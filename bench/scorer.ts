/**
 * Scorer benchmark: the scorer's ONNX path (OnnxPool, the packed input encoding) on the demo's
 * logistic regression, single-row calls and batches, side by side with Python onnxruntime on the
 * same ONNX file and machine in one run (bench/peers/onnx_peer.py). halflife is measured twice:
 * as the scorer runs it (`inline: 'auto'`: on the calling thread when a batch's timed cost fits
 * the 1 ms budget) and with every batch in a runner thread (`inline: 'never'`), each with the
 * event loop's delay (perf_hooks.monitorEventLoopDelay) while it scores; and once more as the
 * scorer runs it but through onnxruntime-node's public InferenceSession API (`direct: false`,
 * platform/onnx/session.mjs), the path before sessions ran through its native binding directly.
 * Single-row figures carry the process's CPU time a call on both sides (`cpuMicrosPerCall`): on
 * the shared, loaded machine the throughput ratio moves with the load, the CPU-time ratio much less.
 *
 * Then shadow evaluation (activities/shadow.ts `shadowEvaluate`, replay source) over
 * `--shadow-events` labelled events in a throwaway embedded ClickHouse (0 skips it), and the
 * scorer's Kafka path end to end on a local broker (bench/scorer-kafka.ts; `--kafka-requests 0`
 * skips it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { createRetrainContext } from '../activities/retrain.ts';
import { createShadowActivity } from '../activities/shadow.ts';
import { fitLogistic } from '../training/logistic.ts';
import { logisticToOnnx } from '../training/logistic-onnx.ts';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { encodeBatch, sliceBatch } from '../platform/onnx/features.ts';
import { OnnxPool } from '../platform/onnx/pool.ts';
import { loadModelRunner } from '../platform/onnx/runner.ts';
import { projectRoot } from '../platform/paths.ts';
import { LocalArtifactStore } from '../platform/registry/artifact-store.ts';
import { Random } from '../detectors/random.ts';
import { demoRow, demoSchedule } from '../workers/demo.ts';
import { kafkaScorerBench } from './scorer-kafka.ts';

const FEATURES = { numeric: ['f1', 'f2', 'f3'], categorical: [] as string[] };

const USAGE = `usage: npm run bench -- scorer [options]

  --rows N            rows scored in batches (default 200000)
  --single N          single-row calls, awaited one at a time (default 5000)
  --warmup N          single-row calls before anything is timed, on both sides (default 5000: the
                      first few thousand calls of a fresh Node process run before V8 has optimised
                      the scorer's code, and its compiler threads' CPU time counts)
  --batch N           rows per batch (default 256, the scorer's maxBatch)
  --shadow-events N   labelled events of the shadow replay (default 1000000; 0 skips it)
  --shadow-metric M   the shadow verdict's metric: logLoss (default; the bootstrap resamples events)
                      or accuracy (the bootstrap draws counts of the differences' values)
  --kafka-requests N  the Kafka path end to end (consume → score → produce) on a local broker:
                      N pre-produced requests (default 200000; 0 skips it), then live ones
  --kafka-rate R      live requests per second (default 2000), for --kafka-seconds S (default 10)
  --brokers host:port use this broker instead of starting one
  --json              one JSON object on stdout instead of text
  --help              this text
`;

interface Figures {
  eventsPerSec: number;
  /** The process's CPU time a call (user + system, every thread), µs: single-row runs only. */
  cpuMicrosPerCall?: number;
  p50Ms: number;
  p99Ms: number;
  /** The event loop's delay while scoring (1 ms timer resolution): p99 and max, ms. */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  /** Batches run on the calling thread / in a runner thread. */
  ranInCaller?: number;
  ranInThread?: number;
}

/** One timed run's figures: its throughput, latency quantiles (sorts `latencies`), event-loop delay and where batches ran. */
function figuresOf(
  eventsPerSec: number,
  latencies: number[],
  loop: IntervalHistogram,
  where: { caller: number; thread: number },
  cpuMicrosPerCall?: number,
): Figures {
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSec,
    ...(cpuMicrosPerCall === undefined ? {} : { cpuMicrosPerCall }),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
    ranInCaller: where.caller,
    ranInThread: where.thread,
  };
}

interface ShadowFigures {
  events: number;
  metric: 'logLoss' | 'accuracy';
  /** How the verdict's bootstrap resampled: events, or counts of the differences' values. */
  resampling: 'events' | 'value-counts' | null;
  seconds: number;
  eventsPerSec: number;
  seedSeconds: number;
  verdict: string;
  /** Wall time of each step, ms (activities/shadow.ts `stepsMs`: read, scoring per model, encoding and starting the inserts, the verdict while the engine writes, the wait for the last insert). */
  steps: Record<string, number>;
}

const quantile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

export async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  const arg = (name: string, d: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const rows = arg('rows', 200_000);
  const single = arg('single', 5000);
  const warmup = arg('warmup', 5000);
  const batch = arg('batch', 256);
  const shadowEvents = arg('shadow-events', 1_000_000);
  const metricAt = argv.indexOf('--shadow-metric');
  const shadowMetric = metricAt >= 0 ? argv[metricAt + 1] : 'logLoss';
  if (shadowMetric !== 'logLoss' && shadowMetric !== 'accuracy') {
    process.stderr.write(`--shadow-metric must be logLoss or accuracy, got ${String(shadowMetric)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const kafkaRequests = arg('kafka-requests', 200_000);
  const kafkaRate = arg('kafka-rate', 2000);
  const kafkaSeconds = arg('kafka-seconds', 10);
  const brokersAt = argv.indexOf('--brokers');
  const brokers = brokersAt >= 0 ? argv[brokersAt + 1] : undefined;
  const json = argv.includes('--json');
  const progress = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };

  const world = { epoch: 0, ...demoSchedule(1).world };
  const rng = new Random(7);
  const train = Array.from({ length: 4000 }, () => demoRow(world, 0, rng));
  const { model } = fitLogistic(
    { features: FEATURES, rows: train.map((r) => r.features), labels: train.map((r) => r.label) },
    { l2: 1 },
    7,
  );
  const bytes = logisticToOnnx(model);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-scorer-'));
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, bytes);
  const store = new LocalArtifactStore(dir);
  const stored = await store.put('m/model.onnx', bytes);
  const data = Array.from({ length: rows }, () => demoRow(world, 0, rng).features);

  const measure = async (inline: 'auto' | 'never', direct = true) => {
    const pool = new OnnxPool({ inline, direct });
    const runner = await loadModelRunner(pool, store, {
      modelId: 'bench',
      version: 'v1',
      artifactUri: stored.uri,
      sha256: stored.sha256,
      features: FEATURES,
    });
    for (let i = 0; i < warmup; i++) await runner.score([data[i % rows]!]);
    const where = { caller: 0, thread: 0 };
    const loop = monitorEventLoopDelay({ resolution: 1 });

    // Single-row: one request per onnxruntime call, awaited in turn (latency of one scored request).
    const lat: number[] = [];
    loop.enable();
    const cpu0 = process.cpuUsage();
    let t0 = performance.now();
    for (let i = 0; i < single; i++) {
      const s = performance.now();
      where[(await runner.score([data[i % rows]!])).ranIn]++;
      lat.push(performance.now() - s);
    }
    const singleS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    const singleFig = figuresOf(single / singleS, lat, loop, where, (cpu.user + cpu.system) / single);

    // Batched: the scorer's batches (maxBatch 256 by default), two in flight (one per runner thread).
    where.caller = where.thread = 0;
    loop.reset();
    loop.enable();
    const blat: number[] = [];
    t0 = performance.now();
    const batches: Array<typeof data> = [];
    for (let i = 0; i < rows; i += batch) batches.push(data.slice(i, i + batch));
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          const s = performance.now();
          where[(await runner.score(b)).ranIn]++;
          blat.push(performance.now() - s);
        }
      }),
    );
    const batchS = (performance.now() - t0) / 1000;
    loop.disable();
    const batchedFig = figuresOf(rows / batchS, blat, loop, where);
    // The same batches encoded beforehand (views into one Float32Array), as the Python peer's
    // numpy matrix is: the ONNX call alone, without reading JSON-shaped rows.
    const encoded = encodeBatch(FEATURES, data);
    t0 = performance.now();
    for (let i = 0; i < rows; i += batch)
      await runner.scoreEncoded(sliceBatch(FEATURES, encoded, i, Math.min(rows, i + batch)));
    const preEncodedEventsPerSec = rows / ((performance.now() - t0) / 1000);
    const inlineCost = pool.inlineCost(runner.key);
    await runner.unload();
    await pool.close();
    return { single: singleFig, batched: batchedFig, preEncodedEventsPerSec, inlineCost, mode: runner.info.mode };
  };
  progress('halflife, as the scorer runs it (inline auto)…');
  const auto = await measure('auto');
  progress('halflife, every batch in a runner thread…');
  const threads = await measure('never');
  progress("halflife, as the scorer runs it, through onnxruntime-node's public API…");
  const publicApi = await measure('auto', false);

  progress('python onnxruntime peer…');
  const python = path.join(projectRoot, '.halflife/venv-dev/bin/python');
  const peer = JSON.parse(
    execFileSync(
      python,
      [
        path.join(projectRoot, 'bench/peers/onnx_peer.py'),
        file,
        String(rows),
        String(single),
        String(batch),
        FEATURES.numeric.join(','),
        String(warmup),
      ],
      { encoding: 'utf8' },
    ),
  ) as {
    engine: string;
    /** From a numpy matrix built beforehand: the onnxruntime call alone. */
    single: Figures;
    batched: Figures;
    /** From JSON-shaped rows (dicts), the matrix built inside the timer: the scorer's own work. */
    singleFromRows: Figures;
    batchedFromRows: Figures;
  };

  const shadow =
    shadowEvents > 0
      ? await shadowBench(
          shadowEvents,
          shadowMetric,
          bytes,
          logisticToOnnx(
            fitLogistic(
              { features: FEATURES, rows: train.map((r) => r.features), labels: train.map((r) => 1 - r.label) },
              { l2: 1 },
              7,
            ).model,
          ),
          progress,
        )
      : null;

  // A failed Kafka phase (the broker, a topic's leaders) is reported, not allowed to lose the other figures.
  const kafka =
    kafkaRequests > 0
      ? await kafkaScorerBench({
          model: bytes,
          features: FEATURES,
          rows: data,
          requests: kafkaRequests,
          liveRate: kafkaRate,
          liveSeconds: kafkaSeconds,
          ...(brokers ? { brokers } : {}),
          progress,
        }).catch((err: unknown) => ({ error: (err as Error).message }))
      : null;

  const machine = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: os.loadavg(),
  };
  const ratio = (a: Figures, b: Figures) => a.eventsPerSec / b.eventsPerSec;
  // Calls per CPU-second, halflife's over Python's: the throughput ratio with the waits for a core taken out.
  const cpuRatio = (a: Figures, b: Figures) => b.cpuMicrosPerCall! / a.cpuMicrosPerCall!;
  const result = {
    machine,
    model: 'demo logistic regression (3 numeric features), packed input',
    rows,
    single,
    warmup,
    batch,
    halflife: auto,
    halflifeThreadsOnly: threads,
    halflifePublicApi: publicApi,
    python: peer,
    ratios: {
      single: ratio(auto.single, peer.single),
      batched: ratio(auto.batched, peer.batched),
      singleThreadsOnly: ratio(threads.single, peer.single),
      batchedThreadsOnly: ratio(threads.batched, peer.batched),
      batchedPreEncoded: auto.preEncodedEventsPerSec / peer.batched.eventsPerSec,
      // Like for like: both sides build the model's input from JSON-shaped rows inside the timer.
      singleFromRows: ratio(auto.single, peer.singleFromRows),
      batchedFromRows: ratio(auto.batched, peer.batchedFromRows),
      singlePublicApi: ratio(publicApi.single, peer.single),
      singleFromRowsPublicApi: ratio(publicApi.single, peer.singleFromRows),
      batchedFromRowsPublicApi: ratio(publicApi.batched, peer.batchedFromRows),
      singleCpu: cpuRatio(auto.single, peer.single),
      singleFromRowsCpu: cpuRatio(auto.single, peer.singleFromRows),
      singleFromRowsCpuPublicApi: cpuRatio(publicApi.single, peer.singleFromRows),
    },
    shadow,
    kafka,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const fmt = (f: Figures) =>
    `${Math.round(f.eventsPerSec).toLocaleString('en')} ev/s, p50 ${f.p50Ms.toFixed(3)} ms, p99 ${f.p99Ms.toFixed(3)} ms` +
    (f.cpuMicrosPerCall === undefined ? '' : `, CPU ${f.cpuMicrosPerCall.toFixed(2)} µs/call`) +
    (f.loopDelayMaxMs === undefined
      ? ''
      : `; event-loop delay p99 ${f.loopDelayP99Ms!.toFixed(2)} ms, max ${f.loopDelayMaxMs.toFixed(2)} ms; batches in caller/thread ${f.ranInCaller}/${f.ranInThread}`);
  const out = [
    `scorer ONNX path, ${result.model}, ${rows.toLocaleString('en')} rows; ${machine.date}; ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${machine.loadAverage
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `in-process cost model: ${auto.inlineCost ? `${(auto.inlineCost.fixedMs * 1000).toFixed(1)} µs + ${(auto.inlineCost.perRowMs * 1000).toFixed(3)} µs/row` : 'threads only'}`,
    `single-row  halflife OnnxPool (auto):    ${fmt(auto.single)}`,
    `single-row  halflife OnnxPool (threads): ${fmt(threads.single)}`,
    `single-row  halflife OnnxPool (auto, onnxruntime-node's public API): ${fmt(publicApi.single)}`,
    `single-row  ${peer.engine}: ${fmt(peer.single)}`,
    `            halflife/python throughput ${result.ratios.single.toFixed(2)}× (threads only ${result.ratios.singleThreadsOnly.toFixed(2)}×, public API ${result.ratios.singlePublicApi.toFixed(2)}×); calls per CPU-second ${result.ratios.singleCpu.toFixed(2)}×`,
    `single-row  ${peer.engine}, from JSON-shaped rows: ${fmt(peer.singleFromRows)}`,
    `            halflife/python throughput, both from rows: ${result.ratios.singleFromRows.toFixed(2)}× (public API ${result.ratios.singleFromRowsPublicApi.toFixed(2)}×); calls per CPU-second ${result.ratios.singleFromRowsCpu.toFixed(2)}× (public API ${result.ratios.singleFromRowsCpuPublicApi.toFixed(2)}×)`,
    `batch ${batch}   halflife OnnxPool (auto):    ${fmt(auto.batched)}`,
    `batch ${batch}   halflife OnnxPool (threads, 2 in flight): ${fmt(threads.batched)}`,
    `batch ${batch}   halflife OnnxPool (auto), rows encoded beforehand: ${Math.round(auto.preEncodedEventsPerSec).toLocaleString('en')} ev/s (${result.ratios.batchedPreEncoded.toFixed(2)}× python)`,
    `batch ${batch}   ${peer.engine} (1 thread): ${fmt(peer.batched)}`,
    `            halflife/python throughput ${result.ratios.batched.toFixed(2)}× (threads only ${result.ratios.batchedThreadsOnly.toFixed(2)}×)`,
    `batch ${batch}   ${peer.engine} (1 thread), from JSON-shaped rows: ${fmt(peer.batchedFromRows)}`,
    `            halflife/python throughput, both from rows: ${result.ratios.batchedFromRows.toFixed(2)}× (public API ${result.ratios.batchedFromRowsPublicApi.toFixed(2)}×)`,
  ];
  if (shadow)
    out.push(
      `shadow replay ${shadow.events.toLocaleString('en')} paired events: ${shadow.seconds.toFixed(1)} s = ${Math.round(shadow.eventsPerSec).toLocaleString('en')} events/s (${shadow.metric}, bootstrap resampling ${shadow.resampling}; verdict ${shadow.verdict}); steps ${Object.entries(
        shadow.steps,
      )
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
        .join(', ')}; seeding took ${shadow.seedSeconds.toFixed(1)} s; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  if (kafka && 'error' in kafka) out.push(`kafka end to end: failed: ${kafka.error}`);
  else if (kafka)
    out.push(
      `kafka end to end (${kafka.partitions} partitions, batches ≤ ${kafka.maxBatch}, events produced acks=all): backlog of ${kafka.backlog.requests.toLocaleString('en')} requests ${Math.round(kafka.backlog.eventsPerSec).toLocaleString('en')} events/s (${kafka.backlog.seconds.toFixed(1)} s; producing the requests ${Math.round(kafka.backlog.producerPerSec).toLocaleString('en')}/s); live ${kafka.live.rate}/s for ${kafka.live.seconds} s (${kafka.live.events.toLocaleString('en')} of ${kafka.live.sent.toLocaleString('en')} events timed): request sent → event read p50 ${kafka.live.latencyP50Ms} ms, p99 ${kafka.live.latencyP99Ms} ms`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Seed n labelled events in a fresh chDB (batches through the ingest repository), then time one replay shadow evaluation over all of them. */
async function shadowBench(
  n: number,
  metric: 'logLoss' | 'accuracy',
  champion: Uint8Array,
  candidate: Uint8Array,
  progress: (line: string) => void,
): Promise<ShadowFigures> {
  progress(`shadow: seeding ${n.toLocaleString('en')} labelled events…`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-shadow-'));
  const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'warn' } });
  const ch = await openClickHouse(config);
  try {
    await applyMigrations(ch.client);
    const registry = new ClickHouseRegistryRepository(ch.client);
    const store = LocalArtifactStore.forDataDir(dataDir);
    const reg = async (bytes: Uint8Array, name: string) => {
      const a = await store.put(`models/bench/${name}/model.onnx`, bytes);
      return registry.registerVersion({
        modelId: 'bench',
        stage: 'candidate',
        artifactUri: a.uri,
        sha256: a.sha256,
        trainer: 'builtin:logistic-regression',
        params: {},
        metrics: {},
        features: FEATURES,
        codeVersion: 'bench',
        seed: 7,
        createdBy: 'bench',
      });
    };
    const champ = await reg(champion, 'champion');
    const cand = await reg(candidate, 'candidate');
    const ingest = new ClickHouseIngestRepository(ch.client);
    const world = { epoch: 0, ...demoSchedule(1).world };
    const rng = new Random(11);
    const t0 = Date.UTC(2026, 0, 1);
    const seedStart = performance.now();
    for (let done = 0; done < n; done += 100_000) {
      const rows = Array.from({ length: Math.min(100_000, n - done) }, (_, i) => ({
        id: `e${done + i}`,
        ts: t0 + done + i,
        ...demoRow(world, 0, rng),
      }));
      await ingest.insertScoringEvents(
        rows.map((r) => ({
          event_id: r.id,
          model_id: 'bench',
          model_version: champ.version,
          ts: r.ts,
          subject_id: 's',
          num_features: r.features,
          cat_features: {},
          missing_features: [],
          prediction_score: 0.5,
          prediction_class: null,
          prediction_value: null,
          metadata: {},
          contract_version: 1,
          source: 'test',
          source_ref: 'bench',
        })),
      );
      await ingest.insertLabels(
        rows.map((r) => ({
          event_id: r.id,
          label: String(r.label),
          label_numeric: r.label,
          label_ts: r.ts + 1000,
          contract_version: 1,
          source: 'test',
          source_ref: 'bench',
        })),
      );
    }
    const seedS = (performance.now() - seedStart) / 1000;
    progress('shadow: evaluating…');
    const { ctx, close } = createRetrainContext({ clickhouse: ch.client, config, log: createLogger('bench', 'warn') });
    try {
      const shadowEvaluate = createShadowActivity(ctx);
      const s = performance.now();
      const result = await shadowEvaluate({
        modelId: 'bench',
        candidateVersion: cand.version,
        championVersion: champ.version,
        window: { start: t0, end: t0 + n + 1 },
        margin: 0.01,
        mode: 'non-inferiority',
        maxEvents: n,
        batchSize: 1024,
        metric,
      });
      const seconds = (performance.now() - s) / 1000;
      return {
        events: result.n,
        metric,
        resampling: result.verdict.statistics.improvement?.resampling ?? null,
        seconds,
        eventsPerSec: result.n / seconds,
        seedSeconds: seedS,
        verdict: result.verdict.decision,
        steps: result.statistics.stepsMs,
      };
    } finally {
      await close();
    }
  } finally {
    await ch.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));

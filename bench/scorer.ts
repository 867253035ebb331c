/**
 * Scorer benchmark: the scorer's ONNX path (OnnxPool worker threads, the packed input encoding)
 * on the demo's logistic regression, single-row calls and batches, side by side with Python
 * onnxruntime on the same ONNX file and machine in one run (bench/peers/onnx_peer.py).
 *
 *   npm run bench -- scorer [--rows 200000] [--single 5000] [--batch 256] [--shadow-events 1000000]
 *
 * Then shadow evaluation (activities/shadow.ts `shadowEvaluate`, replay source) over
 * `--shadow-events` labelled events in a throwaway embedded ClickHouse (0 skips it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
import { OnnxPool } from '../platform/onnx/pool.ts';
import { loadModelRunner } from '../platform/onnx/runner.ts';
import { projectRoot } from '../platform/paths.ts';
import { LocalArtifactStore } from '../platform/registry/artifact-store.ts';
import { Random } from '../detectors/random.ts';
import { demoRow, demoSchedule } from '../workers/demo.ts';

const FEATURES = { numeric: ['f1', 'f2', 'f3'], categorical: [] as string[] };

interface Figures {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const quantile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

export async function main(argv: readonly string[]): Promise<void> {
  const arg = (name: string, d: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const rows = arg('rows', 200_000);
  const single = arg('single', 5000);
  const batch = arg('batch', 256);

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

  const pool = new OnnxPool();
  const runner = await loadModelRunner(pool, store, {
    modelId: 'bench',
    version: 'v1',
    artifactUri: stored.uri,
    sha256: stored.sha256,
    features: FEATURES,
  });
  const data = Array.from({ length: rows }, () => demoRow(world, 0, rng).features);
  for (let i = 0; i < 200; i++) await runner.score([data[i]!]);

  // Single-row: one request per onnxruntime call, awaited in turn (latency of one scored request).
  const lat: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < single; i++) {
    const s = performance.now();
    await runner.score([data[i % rows]!]);
    lat.push(performance.now() - s);
  }
  const singleS = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const ts: Figures = { eventsPerSec: single / singleS, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };

  // Batched: the scorer's batches (maxBatch 256 by default), two in flight (one per runner thread).
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
        await runner.score(b);
        blat.push(performance.now() - s);
      }
    }),
  );
  const batchS = (performance.now() - t0) / 1000;
  blat.sort((a, b) => a - b);
  const tb: Figures = { eventsPerSec: rows / batchS, p50Ms: quantile(blat, 0.5), p99Ms: quantile(blat, 0.99) };
  await runner.unload();
  await pool.close();

  const shadowEvents = arg('shadow-events', 1_000_000);
  const shadowLine =
    shadowEvents > 0
      ? await shadowBench(
          shadowEvents,
          bytes,
          logisticToOnnx(
            fitLogistic(
              { features: FEATURES, rows: train.map((r) => r.features), labels: train.map((r) => 1 - r.label) },
              { l2: 1 },
              7,
            ).model,
          ),
        )
      : null;

  const python = path.join(projectRoot, '.halflife/venv-dev/bin/python');
  const peer = JSON.parse(
    execFileSync(
      python,
      [path.join(projectRoot, 'bench/peers/onnx_peer.py'), file, String(rows), String(single), String(batch)],
      { encoding: 'utf8' },
    ),
  ) as {
    engine: string;
    single: Figures;
    batched: Figures;
  };
  const fmt = (f: Figures) =>
    `${Math.round(f.eventsPerSec).toLocaleString('en')} ev/s, p50 ${f.p50Ms.toFixed(3)} ms, p99 ${f.p99Ms.toFixed(3)} ms`;
  const out = [
    `scorer ONNX path, demo logistic regression, ${rows.toLocaleString('en')} rows; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `single-row  halflife OnnxPool: ${fmt(ts)}`,
    `single-row  ${peer.engine}: ${fmt(peer.single)}  (halflife/python throughput ${(ts.eventsPerSec / peer.single.eventsPerSec).toFixed(2)}×)`,
    `batch ${batch}   halflife OnnxPool (2 threads): ${fmt(tb)}`,
    `batch ${batch}   ${peer.engine} (1 thread): ${fmt(peer.batched)}  (halflife/python throughput ${(tb.eventsPerSec / peer.batched.eventsPerSec).toFixed(2)}×)`,
  ];
  if (shadowLine) out.push(shadowLine);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Seed n labelled events in a fresh chDB (batches through the ingest repository), then time one replay shadow evaluation over all of them. */
async function shadowBench(n: number, champion: Uint8Array, candidate: Uint8Array): Promise<string> {
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
      });
      const sec = (performance.now() - s) / 1000;
      return `shadow replay ${result.n.toLocaleString('en')} paired events: ${sec.toFixed(1)} s = ${Math.round(result.n / sec).toLocaleString('en')} events/s (both models scored through OnnxPool, bootstrap CI + McNemar; verdict ${result.verdict.decision}); seeding ${n.toLocaleString('en')} events + labels took ${seedS.toFixed(1)} s; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`;
    } finally {
      await close();
    }
  } finally {
    await ch.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));

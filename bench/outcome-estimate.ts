/**
 * What the monitor's label-free estimate of a multiclass or regression window costs
 * (operations/outcome-estimate.ts):
 *
 * - multiclass CBPE: the window query that calibrates every event's probability vector in
 *   embedded ClickHouse and returns its sums per predicted class, on windows of `--windows`
 *   events (3 classes, over-confident probabilities so two classes are recalibrated
 *   isotonically), beside the same estimate computed in process from the rows already in memory
 *   (what reading the rows out would add to is not counted), and the two estimates compared;
 * - regression DLE: fitting the estimator on `--dle-reference` labelled rows (5 numeric and 1
 *   categorical feature) — the one-off cost per reference — and estimating a 5,000-row sample;
 *   the fit is timed on this thread and in a worker thread (operations/dle-fit-thread.ts, as the
 *   monitor runs it), each with the longest stall of this thread's event loop while it ran (what
 *   ingest and the API beside it in the daemon would wait).
 *
 *   npm run bench -- outcome-estimate [--windows 20000,200000] [--dle-reference 1500,5000] [--repeat 3] [--json]
 *
 * Timings are wall seconds of this process (medians of --repeat runs), with the 1-minute load.
 */
import { mkdtempSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { estimateMulticlassCbpe, fitMulticlassCbpe } from '../detectors/quality/cbpe-multiclass.ts';
import { calibrationTable, estimateMulticlassFromSums } from '../detectors/quality/cbpe-multiclass-sums.ts';
import { estimateDle, fitDle } from '../detectors/quality/dle.ts';
import { Random } from '../detectors/random.ts';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { multiclassEstimationSums } from '../platform/clickhouse/outcome-estimation-repository.ts';
import type { ScoringEventRow } from '../platform/contracts.ts';
import { loadConfig } from '../platform/config.ts';
import { fitDleInThread } from '../operations/dle-fit-thread.ts';
import { knownShiftClassEvent } from '../synthetic/index.ts';
import { argReader, machine } from './lib/cli.ts';

const CLASSES = ['a', 'b', 'c'];
const MODEL = 'bench-outcome-estimate';
const START = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

const log = (line: string): void => void process.stderr.write(`[outcome-estimate-bench] ${line}\n`);

/** The estimation tests' known-shift classes, the first feature shifted by 0.5, served twice as sharp as true. */
function multiclassRows(n: number, random: Random) {
  return Array.from({ length: n }, () => knownShiftClassEvent(random, 0.5, 2));
}

function regressionRows(n: number, random: Random) {
  return Array.from({ length: n }, () => {
    const x = Array.from({ length: 5 }, () => random.normal(0, 1));
    const colour = random.integer(0, 3);
    const y = 3 * x[0]! - 2 * x[1]! + x[2]! * x[3]! + random.normal(0, 1 + Math.abs(x[4]!));
    return { features: [...x, colour], prediction: 3 * x[0]! - 2 * x[1]!, truth: y };
  });
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Timed like `timed` (once), with the longest delay of this thread's event loop meanwhile (ms). */
async function stallOf<T>(run: () => Promise<T> | T): Promise<{ seconds: number; stallMs: number; result: T }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // The histogram measures from its timer's first turn: let it turn before the fit starts.
  await sleep(30);
  const t = performance.now();
  const result = await run();
  const seconds = (performance.now() - t) / 1000;
  // A stall is recorded when the loop next turns: let it.
  await sleep(30);
  delay.disable();
  return { seconds, stallMs: delay.max / 1e6, result };
}

async function timed<T>(repeat: number, run: () => Promise<T> | T): Promise<{ seconds: number; result: T }> {
  const seconds: number[] = [];
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    result = await run();
    seconds.push((performance.now() - t) / 1000);
  }
  return { seconds: median(seconds), result };
}

export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help')) {
    process.stdout.write(
      'npm run bench -- outcome-estimate [--windows 20000,200000] [--dle-reference 1500,5000] [--repeat 3] [--json]\n',
    );
    return;
  }
  const windows = option('windows', '20000,200000').split(',').map(Number);
  const dleReferences = option('dle-reference', '1500,5000').split(',').map(Number);
  const repeat = Number(option('repeat', '3'));
  const random = new Random(5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outcome-estimate-bench-'));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  await applyMigrations(ch.client);
  const repository = new ClickHouseIngestRepository(ch.client);

  const reference = multiclassRows(20_000, random);
  const model = fitMulticlassCbpe(
    reference.map((r) => r.truth),
    reference.map((r) => r.probabilities),
  );
  const table = calibrationTable(model);
  const multiclass: Record<string, unknown>[] = [];
  let offset = 0;
  for (const n of windows) {
    log(`multiclass window of ${n} events: inserting`);
    const rows = multiclassRows(n, random);
    const start = START + offset;
    offset += 10 * HOUR;
    for (let from = 0; from < n; from += 50_000)
      await repository.insertScoringEvents(
        rows.slice(from, from + 50_000).map((r, i): ScoringEventRow => ({
          event_id: `e-${n}-${from + i}`,
          model_id: MODEL,
          model_version: 'v1',
          ts: start + Math.floor(((from + i) * HOUR) / n),
          subject_id: '',
          num_features: {},
          cat_features: {},
          missing_features: [],
          prediction_score: null,
          prediction_class: null,
          prediction_value: null,
          prediction_probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, r.probabilities[k]!])),
          metadata: {},
          contract_version: 1,
          source: 'bench',
          source_ref: '',
        })),
      );
    const sql = await timed(repeat, () =>
      multiclassEstimationSums(ch.client, { modelId: MODEL, start, end: start + HOUR }, CLASSES, table),
    );
    const fromSums = estimateMulticlassFromSums(model, sql.result.sums);
    const inProcess = await timed(repeat, () =>
      estimateMulticlassCbpe(
        model,
        rows.map((r) => r.probabilities),
      ),
    );
    multiclass.push({
      events: n,
      sql_seconds: sql.seconds,
      in_process_seconds: inProcess.seconds,
      accuracy_sql: fromSums.accuracy.value,
      accuracy_rows: inProcess.result.accuracy.value,
      load1: os.loadavg()[0],
    });
  }
  await ch.close();

  const dle: Record<string, unknown>[] = [];
  const window = regressionRows(5000, random);
  for (const n of dleReferences) {
    log(`DLE on ${n} reference rows`);
    const rows = regressionRows(n, random);
    const reference = { features: rows.map((r) => r.features), predictions: rows.map((r) => r.prediction) };
    const truth = rows.map((r) => r.truth);
    const fit = await stallOf(() => fitDle(reference, truth, { categoricalFeatures: [5] }));
    log(`DLE on ${n} reference rows, in a worker thread`);
    const threaded = await stallOf(() => fitDleInThread(reference, truth, { categoricalFeatures: [5] }));
    const estimate = await timed(repeat, () =>
      estimateDle(fit.result, {
        features: window.map((r) => r.features),
        predictions: window.map((r) => r.prediction),
      }),
    );
    dle.push({
      reference_rows: n,
      fit_seconds: fit.seconds,
      fit_stall_ms: fit.stallMs,
      thread_fit_seconds: threaded.seconds,
      thread_fit_stall_ms: threaded.stallMs,
      estimate_5000_seconds: estimate.seconds,
      load1: os.loadavg()[0],
    });
  }

  const result = { machine: machine(), load: os.loadavg(), repeat, multiclass, dle };
  if (flag('json')) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    `machine: ${result.machine.cpu} (${result.machine.nproc} cores), Node ${result.machine.node}; load ${result.load.map((l) => l.toFixed(2)).join(' ')}; ${result.machine.date}`,
    '',
    '| multiclass window events | SQL sums (s) | in process from rows in memory (s) | accuracy from sums | from rows |',
    '|---:|---:|---:|---:|---:|',
    ...multiclass.map(
      (m) =>
        `| ${m.events} | ${(m.sql_seconds as number).toFixed(3)} | ${(m.in_process_seconds as number).toFixed(3)} | ${(m.accuracy_sql as number).toFixed(6)} | ${(m.accuracy_rows as number).toFixed(6)} |`,
    ),
    '',
    '| DLE reference rows | fit on this thread (s) | its event-loop stall (ms) | fit in a worker thread (s) | its event-loop stall (ms) | estimate on 5,000 rows (s) |',
    '|---:|---:|---:|---:|---:|---:|',
    ...dle.map(
      (d) =>
        `| ${d.reference_rows} | ${(d.fit_seconds as number).toFixed(2)} | ${(d.fit_stall_ms as number).toFixed(0)} | ${(d.thread_fit_seconds as number).toFixed(2)} | ${(d.thread_fit_stall_ms as number).toFixed(0)} | ${(d.estimate_5000_seconds as number).toFixed(3)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

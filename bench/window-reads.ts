/**
 * Window-read benchmark: what one monitor tick of N models costs in queries and SQL time, with
 * and without segments and label-free estimation, read the way the monitor read them before
 * (segmented windows on their own, one estimation query per model beside the batch) and the way
 * it reads them now (everything in the batched queries, activities/window-read.ts).
 *
 *   npm run bench -- window-reads [--models 100] [--events 300] [--reference-events 2000] [--top-k 5]
 *                                 [--max-batch 32] [--repeat 3] [--json] [--dir D]
 *   npm run bench -- window-reads --models 8 --repeat 1        (a smoke run)
 *   npm run bench -- window-reads --alone [--other-labels 0,1000000,5000000]   (bench/window-reads-alone.ts)
 *
 * Data (bench/lib/synthetic-events.ts): per model, a reference window and a current window of
 * 20 numeric + 5 categorical features with a metadata `region` (the segment key, 8 values, top K
 * kept), 50% of events labelled. One estimator (CBPE) fitted on the first model's reference gives
 * every model's estimation grouping. Four workloads: plain, segments (every model segmented),
 * estimation (every model estimating), both; each read both ways, alternating, `--repeat` times.
 * Reported per workload and way: queries per tick (all N windows), SQL milliseconds per
 * model-tick (wall time of the tick's reads ÷ N; best of the repeats), and the process's CPU
 * seconds. One process, one embedded engine: reads run one at a time, as chDB's query lane runs
 * them in the daemon.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  readWindowAlone,
  readWindowsBatched,
  type WindowRead,
  type WindowReadRequest,
} from '../activities/window-read.ts';
import { estimationGrouping } from '../detectors/quality/cbpe-groups.ts';
import { fitCbpe } from '../detectors/quality/cbpe.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { buildReference } from '../operations/build-reference.ts';
import { planSegments } from '../operations/segment-counts.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { estimationScoreGroups, type EstimationQuery } from '../platform/clickhouse/estimation-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import { labelledScoreSample } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';
import { ALONE_HELP, aloneMode } from './window-reads-alone.ts';
import { generateEvents, generateLabels } from './lib/synthetic-events.ts';

const REF_START = Date.UTC(2025, 0, 1);
/** The current windows: a day after the references, so both sit in the same monthly partition. */
const WINDOW_START = REF_START + 86_400_000;
const REGIONS = 8;
const SCORE_BINS = DEFAULT_SCORE_HISTOGRAM_BINS;

let { flag, option } = argReader([]);
const log = (line: string): void => void process.stderr.write(`[window-reads-bench] ${line}\n`);

/** A client that counts the queries sent through it and their wall time. */
function countingClient(client: ClickHouseClient): { client: ClickHouseClient; queries: () => number } {
  let queries = 0;
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'query' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        queries += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: counted, queries: () => queries };
}

interface Workload {
  name: string;
  segments: boolean;
  estimation: boolean;
}

const WORKLOADS: Workload[] = [
  { name: 'plain', segments: false, estimation: false },
  { name: 'segments', segments: true, estimation: false },
  { name: 'estimation', segments: false, estimation: true },
  { name: 'segments+estimation', segments: true, estimation: true },
];

/** The previous routing: segmented windows alone, the rest batched; an estimation query per estimating model. */
async function readBefore(
  client: ClickHouseClient,
  requests: readonly WindowReadRequest[],
  maxBatch: number,
): Promise<WindowRead[]> {
  const out: WindowRead[] = [];
  const batched = requests.filter((r) => !r.segments?.length);
  for (let i = 0; i < batched.length; i += maxBatch)
    out.push(
      ...(await readWindowsBatched(
        client,
        batched.slice(i, i + maxBatch).map(({ estimation: _, ...r }) => r),
        SCORE_BINS,
      )),
    );
  for (const r of requests.filter((x) => x.segments?.length)) {
    const { estimation: _, ...alone } = r;
    out.push(await readWindowAlone(client, alone, SCORE_BINS));
  }
  for (const r of requests)
    if (r.estimation) await estimationScoreGroups(client, r.modelId, { start: r.start, end: r.end }, r.estimation);
  return out;
}

/** Now: every window in batches of `maxBatch`, segments and estimation groups in the batched queries. */
async function readAfter(
  client: ClickHouseClient,
  requests: readonly WindowReadRequest[],
  maxBatch: number,
): Promise<WindowRead[]> {
  const out: WindowRead[] = [];
  for (let i = 0; i < requests.length; i += maxBatch)
    out.push(...(await readWindowsBatched(client, requests.slice(i, i + maxBatch), SCORE_BINS)));
  return out;
}

interface Side {
  queries: number;
  best_ms_per_model_tick: number;
  cpu_seconds: number;
  runs_ms_per_model_tick: number[];
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  ({ flag, option } = argReader(argv));
  if (flag('alone')) {
    if (flag('help') || argv.includes('-h')) process.stdout.write(ALONE_HELP);
    else await aloneMode(argv);
    return;
  }
  if (flag('help') || argv.includes('-h')) {
    process.stdout.write(`usage: npm run bench -- window-reads [options]   (or: npx tsx bench/window-reads.ts [options])
  --models N             models, one window each per tick (default 100)
  --events N             events in each model's window (default 300: 5 events/s for a minute)
  --reference-events N   events in each model's reference window (default 2000)
  --top-k K              segments kept of the region key (default 5; 8 values, the rest __other__)
  --max-batch N          windows per batch (the window batcher's default: 32)
  --repeat N             ticks per workload and way, alternating (default 3)
  --json                 print the result as JSON
  --dir D                data directory of the embedded ClickHouse (default: a new temporary one, removed after)
  --alone                one model's window read alone as stored labels grow (--alone --help for its options)
Queries per tick and SQL ms per model-tick for a tick of N models, plain / segments / estimation /
both, read as before (segmented windows alone, an estimation query per model) and now (batched).
`);
    return;
  }
  const models = Number(option('models', '100'));
  const events = Number(option('events', '300'));
  const referenceEvents = Number(option('reference-events', '2000'));
  const topK = Number(option('top-k', '5'));
  const maxBatch = Number(option('max-batch', '32'));
  const repeat = Number(option('repeat', '3'));
  const given = option('dir', '');
  const dir = given || mkdtempSync(path.join(os.tmpdir(), 'halflife-window-reads-'));
  mkdirSync(dir, { recursive: true });
  const ch: ClickHouse = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    const ids = Array.from({ length: models }, (_, i) => `bench-reads-${i}`);
    const t0 = performance.now();
    for (const [i, model] of ids.entries()) {
      await generateEvents(ch, { model, start: REF_START, rows: referenceEvents, seed: 1 + i, regions: REGIONS });
      await generateEvents(ch, { model, start: WINDOW_START, rows: events, seed: 100_000 + i, regions: REGIONS });
      for (const [start, rows] of [
        [REF_START, referenceEvents],
        [WINDOW_START, events],
      ] as const)
        await generateLabels(ch, { model, start, rows, share: 0.5, delayMs: 30_000 });
    }
    log(`generated ${models} models in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const references: StoredReference[] = [];
    const plans: SegmentsToCount[][] = [];
    for (const model of ids) {
      const reference = await buildReference(ch.client, {
        modelId: model,
        start: REF_START,
        end: REF_START + referenceEvents,
      });
      references.push(reference);
      plans.push((await planSegments(ch.client, reference, { keys: [{ metadata: 'region' }], topK })).toCount);
    }
    const sample = await labelledScoreSample(
      ch.client,
      ids[0]!,
      { start: REF_START, end: REF_START + referenceEvents },
      50_000,
    );
    const cbpe = fitCbpe(
      sample.map((s) => s.label),
      sample.map((s) => s.score),
    );
    const estimation: EstimationQuery = { ...estimationGrouping(cbpe), referenceRange: cbpe.referenceScoreRange };
    log(`references, segment plans and the estimator (${estimation.steps.length} step bounds) ready`);

    const requestsOf = (w: Workload): WindowReadRequest[] =>
      ids.map((modelId, i) => ({
        modelId,
        start: WINDOW_START,
        end: WINDOW_START + events,
        reference: references[i]!,
        labelsArrivedBy: WINDOW_START + events + 60_000,
        ...(w.segments ? { segments: plans[i]! } : {}),
        ...(w.estimation ? { estimation } : {}),
      }));
    const results: Record<string, { before: Side; after: Side; speedup: number }> = {};
    for (const w of WORKLOADS) {
      const requests = requestsOf(w);
      const sides = { before: [] as number[], after: [] as number[] };
      const cpu = { before: 0, after: 0 };
      const queries = { before: 0, after: 0 };
      for (let r = 0; r < repeat; r++)
        for (const way of ['before', 'after'] as const) {
          const counting = countingClient(ch.client);
          const c0 = process.cpuUsage();
          const start = performance.now();
          await (way === 'before' ? readBefore : readAfter)(counting.client, requests, maxBatch);
          sides[way].push((performance.now() - start) / models);
          const used = process.cpuUsage(c0);
          cpu[way] = Math.min(cpu[way] || Infinity, (used.user + used.system) / 1e6);
          queries[way] = counting.queries();
        }
      const side = (way: 'before' | 'after'): Side => ({
        queries: queries[way],
        best_ms_per_model_tick: Math.min(...sides[way]),
        cpu_seconds: cpu[way],
        runs_ms_per_model_tick: sides[way],
      });
      results[w.name] = {
        before: side('before'),
        after: side('after'),
        speedup: Math.min(...sides.before) / Math.min(...sides.after),
      };
      log(
        `${w.name}: before ${queries.before} queries, ${Math.min(...sides.before).toFixed(2)} ms/model-tick; after ${queries.after} queries, ${Math.min(...sides.after).toFixed(2)} ms/model-tick`,
      );
    }
    const result = {
      machine: machine(),
      load1: os.loadavg()[0],
      command: `npm run bench -- window-reads ${argv.join(' ')}`.trim(),
      models,
      events_per_window: events,
      reference_events: referenceEvents,
      segments_per_model: (plans[0]?.[0]?.values.length ?? 0) + 1,
      estimation_step_bounds: estimation.steps.length,
      max_batch: maxBatch,
      repeat,
      workloads: results,
    };
    if (flag('json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const m = result.machine;
      const lines = [
        `machine: ${m.nproc} cores, ${m.memory}, ${m.cpu}; ${m.date}; load ${result.load1?.toFixed(2)}`,
        `${models} models × ${events} events a window, ${result.segments_per_model} segments, ${estimation.steps.length} step bounds, batches of ${maxBatch}`,
        'workload              queries/tick before → after   SQL ms/model-tick before → after',
        ...Object.entries(results).map(
          ([name, r]) =>
            `${name.padEnd(22)}${String(r.before.queries).padStart(8)} → ${String(r.after.queries).padEnd(16)}${r.before.best_ms_per_model_tick.toFixed(2).padStart(10)} → ${r.after.best_ms_per_model_tick.toFixed(2)} (${r.speedup.toFixed(2)}×)`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    await ch.close();
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

// Run when executed directly (bench/run.ts imports main instead).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));

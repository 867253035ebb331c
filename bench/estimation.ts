/**
 * Label-free estimation against NannyML, side by side on NannyML's own bundled datasets
 * (synthetic car loans; ACS employment, Massachusetts), on the same windows row for row.
 *
 *   npm run bench -- estimation [--from DIR] [--chunk-sizes 'car-loan=5000,2500;employment=5000,20000'] [--json] [--write-md]
 *
 * It also runs the multiclass CBPE and regression DLE comparison (estimation-beyond-binary.ts) on
 * NannyML's multiclass and car-price sets; `--kinds` picks which of the three run.
 *
 * The Python side (bench/estimation/nannyml_cbpe.py, in .halflife/venv-bench) fits NannyML's CBPE
 * on each dataset's reference and estimates the analysis period in chunks of N rows, writing the
 * rows and, per chunk, NannyML's estimate and the realised value (NannyML's, from scikit-learn).
 * Here halflife fits its CBPE on the same reference at the model's decision threshold (read off
 * the reference: the lowest score predicted positive) and estimates the same chunks two ways:
 * from score groups as the monitor's window query returns them (`groups`: what production runs),
 * and from the rows (`rows`). It reports, per metric, the mean absolute error against realised of
 * each, and the bias of the monitor's previous form (100 score-bin centres, threshold 0.5) for
 * accuracy. Deterministic: no timing, no randomness. `--from DIR` reuses the Python side's output.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { estimateCbpe, fitCbpe, type CbpeEstimate, type CbpeModel } from '../detectors/quality/cbpe.ts';
import { estimateCbpeFromGroups, estimationGrouping, groupScores } from '../detectors/quality/cbpe-groups.ts';
import { calibrate } from '../detectors/quality/recalibration.ts';
import { benchVenvPython } from './lib/bench-venv.ts';
import {
  beyondBinaryMarkdown,
  compareMulticlass,
  compareRegression,
  type BeyondBinaryError,
  type MulticlassOutput,
  type RegressionOutput,
} from './estimation-beyond-binary.ts';
import { argReader, machine } from './lib/cli.ts';
import { replaceSection } from './lib/markdown-section.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const METRICS = ['roc_auc', 'accuracy', 'precision', 'recall', 'f1'] as const;
type Metric = (typeof METRICS)[number];
const DEFAULT_CHUNK_SIZES = 'car-loan=5000,2500;employment=5000,20000';
const DEFAULT_BEYOND_BINARY_CHUNK_SIZES = '6000,2000';
const KINDS = ['binary', 'multiclass', 'regression'] as const;

interface Rows {
  scores: number[];
  predictions: number[];
  labels: number[];
}
interface NannymlChunk {
  start: number;
  end: number;
  estimated: Record<Metric, number | null>;
  realised: Record<Metric, number | null>;
}
interface NannymlOutput {
  dataset: string;
  nannyml: string;
  reference: Rows;
  analysis: Rows;
  chunkings: { chunkSize: number; chunks: NannymlChunk[] }[];
}

export interface MetricError {
  metric: Metric;
  chunks: number;
  nannyml: number;
  halflife: number;
  halflifeRows: number;
  /** halflife's error over NannyML's (target ≤ 1). */
  ratio: number;
  /** Largest |halflife's estimate − NannyML's| over the chunks. */
  maxDifference: number;
}

export interface ChunkingResult {
  dataset: string;
  chunkSize: number;
  threshold: number;
  recalibration: string;
  trustworthy: boolean;
  errors: MetricError[];
  /** Mean |groups − rows| of accuracy: what the score groups cost the monitor (0 when exact). */
  accuracyGroupBias: number;
  /** Mean |bin-centre estimate − rows| of accuracy at 0.5: the monitor's previous form. */
  accuracyCentreBias: number;
  /** Share of chunks whose realised accuracy and ROC AUC fall inside halflife's 95% interval. */
  coverage: { accuracy: number; roc_auc: number };
}

/** The model's decision threshold, read off the reference: the lowest score it predicted positive. */
function decisionThreshold(rows: Rows, dataset: string): number {
  let lowestPositive = Number.POSITIVE_INFINITY;
  let highestNegative = Number.NEGATIVE_INFINITY;
  rows.scores.forEach((s, i) => {
    if (rows.predictions[i] === 1) lowestPositive = Math.min(lowestPositive, s);
    else highestNegative = Math.max(highestNegative, s);
  });
  if (!(highestNegative < lowestPositive))
    throw new Error(`${dataset}: predictions are not a threshold on the score (a negative at ${highestNegative})`);
  return lowestPositive;
}

function value(estimate: CbpeEstimate, metric: Metric): number | null {
  switch (metric) {
    case 'roc_auc':
      return estimate.rocAuc;
    case 'accuracy':
      return estimate.accuracy;
    case 'precision':
      return estimate.precision;
    case 'recall':
      return estimate.recall;
    case 'f1':
      return estimate.f1;
  }
}

/** Accuracy as the monitor estimated it before: 100 score-bin centres, threshold 0.5. */
function binCentreAccuracy(model: CbpeModel, scores: readonly number[]): number {
  const bins = 100;
  const histogram = new Array<number>(bins).fill(0);
  for (const s of scores) histogram[Math.min(Math.floor(s * bins), bins - 1)]! += 1;
  let correct = 0;
  histogram.forEach((count, b) => {
    const centre = (b + 0.5) / bins;
    const p = calibrate(model.calibrator, centre);
    correct += count * (centre >= 0.5 ? p : 1 - p);
  });
  return correct / scores.length;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export function compare(data: NannymlOutput): ChunkingResult[] {
  const threshold = decisionThreshold(data.reference, data.dataset);
  const model = fitCbpe(data.reference.labels, data.reference.scores, { threshold });
  const grouping = estimationGrouping(model);
  return data.chunkings.map(({ chunkSize, chunks }) => {
    const errors = new Map<Metric, { nannyml: number[]; halflife: number[]; rows: number[]; difference: number[] }>();
    const groupBias: number[] = [];
    const centreBias: number[] = [];
    const covered = { accuracy: 0, roc_auc: 0 };
    for (const chunk of chunks) {
      const scores = data.analysis.scores.slice(chunk.start, chunk.end);
      const fromGroups = estimateCbpeFromGroups(model, groupScores(grouping, scores), grouping);
      const fromRows = estimateCbpe(model, scores);
      groupBias.push(Math.abs((fromGroups.accuracy ?? 0) - (fromRows.accuracy ?? 0)));
      centreBias.push(Math.abs(binCentreAccuracy(model, scores) - (fromRows.accuracy ?? 0)));
      for (const metric of METRICS) {
        const realised = chunk.realised[metric];
        const theirs = chunk.estimated[metric];
        const ours = value(fromGroups, metric);
        const oursRows = value(fromRows, metric);
        if (realised === null || theirs === null || ours === null || oursRows === null) continue;
        const e = errors.get(metric) ?? { nannyml: [], halflife: [], rows: [], difference: [] };
        e.difference.push(Math.abs(ours - theirs));
        e.nannyml.push(Math.abs(theirs - realised));
        e.halflife.push(Math.abs(ours - realised));
        e.rows.push(Math.abs(oursRows - realised));
        errors.set(metric, e);
      }
      const inside = (interval: { lower: number; upper: number } | null, x: number | null) =>
        interval !== null && x !== null && x >= interval.lower && x <= interval.upper ? 1 : 0;
      covered.accuracy += inside(fromGroups.accuracyInterval, chunk.realised.accuracy);
      covered.roc_auc += inside(fromGroups.rocAucInterval, chunk.realised.roc_auc);
    }
    return {
      dataset: data.dataset,
      chunkSize,
      threshold,
      recalibration: model.check.recalibration,
      trustworthy: model.check.trustworthy,
      errors: METRICS.flatMap((metric) => {
        const e = errors.get(metric);
        if (!e) return [];
        const nannyml = mean(e.nannyml);
        const halflife = mean(e.halflife);
        return [
          {
            metric,
            chunks: e.nannyml.length,
            nannyml,
            halflife,
            halflifeRows: mean(e.rows),
            ratio: halflife / nannyml,
            maxDifference: Math.max(...e.difference),
          },
        ];
      }),
      accuracyGroupBias: mean(groupBias),
      accuracyCentreBias: mean(centreBias),
      coverage: { accuracy: covered.accuracy / chunks.length, roc_auc: covered.roc_auc / chunks.length },
    };
  });
}

const USAGE = `usage: npm run bench -- estimation [options]

  --kinds LIST        which comparisons to run, of ${KINDS.join(',')} (default all)
  --chunk-sizes SPEC  binary: rows per chunk per dataset (default '${DEFAULT_CHUNK_SIZES}')
  --beyond-binary-chunk-sizes LIST
                      multiclass and regression: rows per chunk (default '${DEFAULT_BEYOND_BINARY_CHUNK_SIZES}')
  --from DIR          reuse the Python side's output in DIR (nannyml_cbpe.py, nannyml_multiclass_regression.py)
                      instead of running it
  --json              print the results as JSON
  --write-md          write the tables into BENCHMARKS.md (between its estimation and
                      estimation-multiclass-regression markers)
  --help              this text`;

function markdown(
  results: readonly ChunkingResult[],
  host: Record<string, string>,
  load: string,
  command: string,
): string {
  const fmt = (x: number) => x.toFixed(5);
  const lines = [
    `Machine: ${host.cpu} (${host.nproc} cores), ${host.memory} RAM, Node ${host.node}; load ${load}; ${(host.date ?? '').slice(0, 10)}.`,
    `Command: \`${command}\` (deterministic; NannyML ${'0.13.1'} in .halflife/venv-bench).`,
    '',
    '| dataset | chunk rows | chunks | threshold | metric | NannyML MAE | halflife MAE (score groups) | halflife MAE (rows) | halflife / NannyML | largest difference from NannyML in a chunk |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results)
    for (const e of r.errors)
      lines.push(
        `| ${r.dataset} | ${r.chunkSize} | ${e.chunks} | ${Number(r.threshold.toFixed(4))} | ${e.metric} | ${fmt(e.nannyml)} | ${fmt(e.halflife)} | ${fmt(e.halflifeRows)} | ${e.ratio.toFixed(6)} | ${e.maxDifference.toExponential(1)} |`,
      );
  lines.push(
    '',
    '| dataset | chunk rows | recalibration | accuracy: groups − rows (mean abs) | accuracy: previous bin centres at 0.5 − rows | realised inside 95% interval: accuracy · ROC AUC |',
    '|---|---:|---|---:|---:|---|',
  );
  for (const r of results)
    lines.push(
      `| ${r.dataset} | ${r.chunkSize} | ${r.recalibration} | ${r.accuracyGroupBias.toExponential(1)} | ${r.accuracyCentreBias.toExponential(1)} | ${(100 * r.coverage.accuracy).toFixed(0)}% · ${(100 * r.coverage.roc_auc).toFixed(0)}% |`,
    );
  return lines.join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const args = argReader(argv);
  if (args.flag('help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = (line: string) => process.stderr.write(`[estimation] ${line}\n`);
  const kinds = args.option('kinds', KINDS.join(',')).split(',');
  const unknown = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`--kinds: unknown ${unknown.join(', ')}; choose from ${KINDS.join(', ')}`);
  const binary = kinds.includes('binary');
  const beyond = kinds.filter((k) => k === 'multiclass' || k === 'regression');
  let dir = args.option('from', '');
  if (dir === '') {
    dir = path.join(os.tmpdir(), `halflife-bench-estimation-${process.pid}`);
    const python = benchVenvPython(log);
    if (binary) {
      log(`NannyML's CBPE (bench/estimation/nannyml_cbpe.py) → ${dir}`);
      execFileSync(
        python,
        [
          path.join(ROOT, 'bench', 'estimation', 'nannyml_cbpe.py'),
          '--out',
          dir,
          '--chunk-sizes',
          args.option('chunk-sizes', DEFAULT_CHUNK_SIZES),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
    }
    if (beyond.length > 0) {
      log(`NannyML's multiclass CBPE and DLE (bench/estimation/nannyml_multiclass_regression.py) → ${dir}`);
      execFileSync(
        python,
        [
          path.join(ROOT, 'bench', 'estimation', 'nannyml_multiclass_regression.py'),
          '--out',
          dir,
          '--chunk-sizes',
          args.option('beyond-binary-chunk-sizes', DEFAULT_BEYOND_BINARY_CHUNK_SIZES),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
    }
  }
  const results: ChunkingResult[] = [];
  for (const dataset of binary ? ['car-loan', 'employment'] : []) {
    log(`halflife's CBPE on ${dataset}`);
    results.push(...compare(JSON.parse(readFileSync(path.join(dir, `${dataset}.json`), 'utf8')) as NannymlOutput));
  }
  const beyondBinary: BeyondBinaryError[] = [];
  if (beyond.includes('multiclass')) {
    log(`halflife's multiclass CBPE on NannyML's synthetic multiclass set`);
    beyondBinary.push(
      ...compareMulticlass(JSON.parse(readFileSync(path.join(dir, 'multiclass.json'), 'utf8')) as MulticlassOutput),
    );
  }
  if (beyond.includes('regression')) {
    log(
      `halflife's DLE on NannyML's synthetic car-price set (fits two loss models and five out-of-fold refits: minutes under load)`,
    );
    beyondBinary.push(
      ...compareRegression(JSON.parse(readFileSync(path.join(dir, 'regression.json'), 'utf8')) as RegressionOutput),
    );
  }
  const host = machine();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  if (args.flag('json')) {
    process.stdout.write(
      `${JSON.stringify({ machine: { ...host, loadavg: load }, results, beyondBinary }, null, 2)}\n`,
    );
  } else {
    for (const r of results)
      for (const e of r.errors)
        process.stdout.write(
          `${r.dataset.padEnd(11)} ${String(r.chunkSize).padStart(6)} ${e.metric.padEnd(9)} NannyML ${e.nannyml.toFixed(5)}  halflife ${e.halflife.toFixed(5)} (rows ${e.halflifeRows.toFixed(5)})  ×${e.ratio.toFixed(6)}  max |Δ| ${e.maxDifference.toExponential(1)}\n`,
        );
    for (const e of beyondBinary)
      process.stdout.write(
        `${e.dataset.padEnd(11)} ${String(e.chunkSize).padStart(6)} ${e.metric.padEnd(9)} NannyML ${e.nannyml.toFixed(5)}  halflife ${e.halflife.toFixed(5)}  ×${e.ratio.toFixed(3)}  realised inside 95% interval ${(100 * e.coverage).toFixed(0)}%\n`,
      );
  }
  if (args.flag('write-md')) {
    const file = path.join(ROOT, 'BENCHMARKS.md');
    let text = readFileSync(file, 'utf8');
    if (binary)
      text = replaceSection(
        text,
        'estimation',
        markdown(results, host, load, 'npm run bench -- estimation --write-md'),
      );
    if (beyondBinary.length > 0)
      text = replaceSection(
        text,
        'estimation-multiclass-regression',
        beyondBinaryMarkdown(beyondBinary, [
          `Machine: ${host.cpu} (${host.nproc} cores), ${host.memory} RAM, Node ${host.node}; load ${load}; ${(host.date ?? '').slice(0, 10)}.`,
          `Command: \`npm run bench -- estimation --kinds ${beyond.join(',')} --write-md\` (deterministic; NannyML 0.13.1 in .halflife/venv-bench).`,
        ]),
      );
    writeFileSync(file, text);
    log('BENCHMARKS.md updated');
  }
}

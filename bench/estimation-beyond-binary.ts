/**
 * The multiclass and regression half of `npm run bench -- estimation`: halflife's multiclass CBPE
 * and DLE against NannyML's on NannyML's own bundled datasets (synthetic multiclass credit cards;
 * synthetic car prices), on the same chunks row for row.
 *
 * The Python side (bench/estimation/nannyml_multiclass_regression.py, in .halflife/venv-bench)
 * fits NannyML's estimators on each reference and estimates the analysis period in chunks of N
 * rows, writing the rows, NannyML's estimate and the realised value per chunk. Here halflife fits
 * its estimators on the same reference and estimates the same chunks; the table gives, per metric,
 * each tool's mean absolute error against realised, and how often the realised value falls inside
 * halflife's 95% interval. Deterministic: fixed seeds, no timing.
 */
import {
  estimateMulticlassCbpe,
  fitMulticlassCbpe,
  type MulticlassCbpeEstimate,
} from '../detectors/quality/cbpe-multiclass.ts';
import { estimateDle, fitDle, type DleEstimate } from '../detectors/quality/dle.ts';
import type { MetricEstimate } from '../detectors/quality/types.ts';

interface Chunk<M extends string> {
  start: number;
  end: number;
  estimated: Record<M, number | null>;
  realised: Record<M, number | null>;
}
interface Chunkings<M extends string> {
  nannyml: string;
  chunkings: { chunkSize: number; chunks: Chunk<M>[] }[];
}
export interface MulticlassOutput extends Chunkings<'accuracy' | 'f1'> {
  classes: string[];
  reference: { probabilities: number[][]; predicted: number[]; truth: number[] };
  analysis: { probabilities: number[][]; predicted: number[]; truth: number[] };
}
export interface RegressionOutput extends Chunkings<'mae' | 'rmse'> {
  featureNames: string[];
  /** Indices of the features that are category codes (NannyML's string columns). */
  categoricalFeatures: number[];
  reference: { features: number[][]; predictions: number[]; truth: number[] };
  analysis: { features: number[][]; predictions: number[]; truth: number[] };
}

export interface BeyondBinaryError {
  dataset: 'multiclass' | 'regression';
  chunkSize: number;
  /** NannyML's metric name (f1 is macro-F1). */
  metric: string;
  chunks: number;
  nannyml: number;
  halflife: number;
  /** halflife's error over NannyML's (target ≤ 1). */
  ratio: number;
  /** Share of chunks whose realised value lies inside halflife's 95% interval. */
  coverage: number;
  trustworthy: boolean;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function summarise<M extends string>(
  dataset: BeyondBinaryError['dataset'],
  data: Chunkings<M>,
  metrics: readonly M[],
  trustworthy: boolean,
  estimate: (start: number, end: number) => Record<M, MetricEstimate>,
): BeyondBinaryError[] {
  return data.chunkings.flatMap(({ chunkSize, chunks }) => {
    const ours = chunks.map((c) => estimate(c.start, c.end));
    return metrics.map((metric) => {
      const nannyml: number[] = [];
      const halflife: number[] = [];
      let covered = 0;
      chunks.forEach((chunk, i) => {
        const realised = chunk.realised[metric];
        const theirs = chunk.estimated[metric];
        const mine = ours[i]![metric];
        if (realised === null || theirs === null || mine.value === null) return;
        nannyml.push(Math.abs(theirs - realised));
        halflife.push(Math.abs(mine.value - realised));
        if (mine.interval && realised >= mine.interval.lower && realised <= mine.interval.upper) covered += 1;
      });
      return {
        dataset,
        chunkSize,
        metric,
        chunks: nannyml.length,
        nannyml: mean(nannyml),
        halflife: mean(halflife),
        ratio: mean(halflife) / mean(nannyml),
        coverage: covered / Math.max(1, nannyml.length),
        trustworthy,
      };
    });
  });
}

export function compareMulticlass(data: MulticlassOutput): BeyondBinaryError[] {
  const model = fitMulticlassCbpe(data.reference.truth, data.reference.probabilities);
  const a = data.analysis;
  return summarise('multiclass', data, ['accuracy', 'f1'] as const, model.trustworthy, (start, end) => {
    const e: MulticlassCbpeEstimate = estimateMulticlassCbpe(
      model,
      a.probabilities.slice(start, end),
      a.predicted.slice(start, end),
    );
    return { accuracy: e.accuracy, f1: e.macroF1 };
  });
}

export function compareRegression(data: RegressionOutput): BeyondBinaryError[] {
  const model = fitDle(data.reference, data.reference.truth, { categoricalFeatures: data.categoricalFeatures });
  const a = data.analysis;
  return summarise('regression', data, ['mae', 'rmse'] as const, model.trustworthy, (start, end) => {
    const e: DleEstimate = estimateDle(model, {
      features: a.features.slice(start, end),
      predictions: a.predictions.slice(start, end),
    });
    return { mae: e.mae, rmse: e.rmse };
  });
}

export function beyondBinaryMarkdown(results: readonly BeyondBinaryError[], header: readonly string[]): string {
  const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(5));
  const lines = [
    ...header,
    '',
    '| dataset | chunk rows | chunks | metric | NannyML MAE | halflife MAE | halflife / NannyML | realised inside halflife 95% interval |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const r of results)
    lines.push(
      `| ${r.dataset} | ${r.chunkSize} | ${r.chunks} | ${r.metric === 'f1' ? 'macro-F1' : r.metric} | ${fmt(r.nannyml)} | ${fmt(r.halflife)} | ${r.ratio.toFixed(3)} | ${(100 * r.coverage).toFixed(0)}% |`,
    );
  return lines.join('\n');
}

/**
 * Offline validation of a multiclass or regression candidate: it and the champion score the same
 * held-out rows, and the candidate passes when it scores every row and beats a model with no
 * skill on the policy's metric (a uniform guess, the most frequent class, the mean or median of
 * the truth). The champion's figure is reported beside it; the shadow evaluation decides between
 * them. The candidate's figure, as quality, starts the new version's decay curve. The candidate's
 * outputs on the held-out rows are kept with their labels (validation-outputs.ts): a promoted
 * version's label-free estimator is fitted on them until it has labelled events of its own.
 */
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import type { TrainingSnapshot } from '../platform/clickhouse/lineage-repository.ts';
import { ArtifactIntegrityError } from '../platform/registry/artifact-store.ts';
import { modelOutputOf } from '../platform/registry/model-output.ts';
import { OnnxModelError } from '../platform/onnx/pool.ts';
import type { ModelVersion } from '../platform/registry/types.ts';
import {
  multiclassSummary,
  noSkillFigure,
  regressionSummary,
  summaryFigure,
  type OutputsSummary,
} from '../detectors/quality/outputs-summary.ts';
import {
  defaultMetricOf,
  isLossMetric,
  metricsOfKind,
  qualityOfMetric,
  type QualityMetric,
} from '../detectors/quality/quality-metric.ts';
import type { QualityPolicy } from '../detectors/policy/types.ts';
import { readTrainingCsv, type LabelledRows } from '../training/csv.ts';
import { heartbeat, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreRows } from './scoring.ts';
import { storeHeldOutOutputs, type ScoredHoldoutRow } from './validation-outputs.ts';

/** The policy's quality section, as the retrain receives it. */
export type RetrainQuality = QualityPolicy;

export interface BeyondBinaryValidation {
  holdoutRows: number;
  candidate: OutputsSummary | null;
  champion: OutputsSummary | null;
  passed: boolean;
  reasons: string[];
  metric: QualityMetric;
  /** The candidate's figure as the monitor's quality in [0, 1] (null when it could not be computed). */
  freshQuality: number | null;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

/** The metric the retrain judges a model of this kind on: the policy's when it applies, else the kind's default. */
export function retrainMetric(kind: ModelKindDeclaration, quality: RetrainQuality | undefined): QualityMetric {
  const metric = quality?.metric;
  return metric && metricsOfKind(kind.kind).includes(metric) ? metric : defaultMetricOf(kind.kind);
}

/** A model's summary on the rows, how many rows it failed to score, and the rows it scored. */
async function summarise(
  ctx: RetrainContext,
  version: ModelVersion,
  kind: Exclude<ModelKindDeclaration, { kind: 'binary' }>,
  holdout: LabelledRows,
  step: string,
): Promise<{ summary: OutputsSummary; errors: number; scored: ScoredHoldoutRow[] }> {
  const runner = await loadVersion(ctx, version, modelOutputOf(kind));
  try {
    const scored = await scoreRows(runner, holdout.rows, 1024, () => heartbeat({ step }));
    const truth: number[] = [];
    const outputs: number[][] = [];
    const predictions: number[] = [];
    const rows: ScoredHoldoutRow[] = [];
    holdout.labels.forEach((y, i) => {
      const row = Array.from(scored.scores.subarray(i * scored.width, (i + 1) * scored.width));
      if (row.some((v) => Number.isNaN(v))) return;
      truth.push(y);
      rows.push({ eventId: holdout.eventIds[i] ?? '', truth: y, outputs: row });
      if (kind.kind === 'multiclass') outputs.push(row);
      else predictions.push(row[0] as number);
    });
    const summary =
      kind.kind === 'multiclass' ? multiclassSummary(truth, outputs) : regressionSummary(truth, predictions);
    return { summary, errors: scored.errors, scored: rows };
  } finally {
    await runner.unload();
  }
}

export async function validateBeyondBinary(
  ctx: RetrainContext,
  input: { modelId: string; candidateVersion: string; championVersion?: string; quality?: RetrainQuality },
  kind: Exclude<ModelKindDeclaration, { kind: 'binary' }>,
  snapshot: TrainingSnapshot,
  candidateVersion: ModelVersion,
): Promise<BeyondBinaryValidation> {
  const metric = retrainMetric(kind, input.quality);
  const holdout = await readTrainingCsv(await ctx.artifacts.localPath(snapshot.holdoutUri), snapshot.features, kind);
  const holdoutRows = holdout.rows.length;
  const result = (
    passed: boolean,
    reasons: string[],
    candidate: OutputsSummary | null = null,
    champion: OutputsSummary | null = null,
  ): BeyondBinaryValidation => {
    const figure = candidate ? summaryFigure(candidate, metric) : null;
    let freshQuality: number | null = null;
    if (figure !== null) {
      try {
        freshQuality = qualityOfMetric(metric, figure, input.quality?.worthlessError);
      } catch {
        // mae / rmse without a worthlessError: the figure stands, no quality
      }
    }
    return { holdoutRows, candidate, champion, passed, reasons, metric, freshQuality };
  };
  if (holdoutRows === 0) return result(false, ['the held-out slice is empty: not enough labelled data to validate']);

  let candidate: { summary: OutputsSummary; errors: number; scored: ScoredHoldoutRow[] };
  try {
    candidate = await summarise(ctx, candidateVersion, kind, holdout, 'candidate');
  } catch (err) {
    if (err instanceof ArtifactIntegrityError || err instanceof OnnxModelError)
      return result(false, [`candidate ${input.candidateVersion} cannot be loaded: ${(err as Error).message}`]);
    throw err;
  }
  // Kept whatever the verdict: a few numbers a held-out row, and a retried validation rewrites the same rows.
  const stored = await storeHeldOutOutputs(
    ctx,
    { modelId: input.modelId, version: input.candidateVersion, snapshotId: snapshot.snapshotId },
    kind,
    candidate.scored,
  );
  ctx.log.info(
    { modelId: input.modelId, version: input.candidateVersion, snapshotId: snapshot.snapshotId, rows: stored },
    "held-out outputs stored for the version's label-free estimator",
  );
  const reasons: string[] = [];
  let passed = true;
  if (candidate.errors > 0) {
    passed = false;
    reasons.push(`candidate failed to score ${candidate.errors} of ${holdoutRows} held-out rows`);
  }
  const figure = summaryFigure(candidate.summary, metric);
  const baseline = noSkillFigure(metric, holdout.labels, kind.kind === 'multiclass' ? kind.classes.length : 0);
  if (figure === null || baseline === null) {
    passed = false;
    reasons.push(`${metric} of the candidate is undefined on the ${holdoutRows} held-out rows`);
  } else if (isLossMetric(metric) ? !(figure < baseline) : !(figure > baseline)) {
    passed = false;
    reasons.push(
      `candidate ${metric} ${fmt(figure)} is no better than a model without skill (${fmt(baseline)}) on ${holdoutRows} held-out rows`,
    );
  } else {
    reasons.push(
      `candidate ${metric} ${fmt(figure)} against ${fmt(baseline)} without skill on ${holdoutRows} held-out rows`,
    );
  }

  let champion: OutputsSummary | null = null;
  if (input.championVersion) {
    const version = await ctx.registry.getVersion(input.modelId, input.championVersion);
    if (!version) reasons.push(`champion ${input.championVersion} is not in the registry: no side-by-side comparison`);
    else {
      try {
        champion = (await summarise(ctx, version, kind, holdout, 'champion')).summary;
        reasons.push(`champion ${metric} ${fmt(summaryFigure(champion, metric))} on the same rows`);
      } catch (err) {
        if (!(err instanceof ArtifactIntegrityError || err instanceof OnnxModelError)) throw err;
        reasons.push(
          `champion ${input.championVersion} could not be scored (${(err as Error).message}): no side-by-side comparison`,
        );
      }
    }
  }
  return result(passed, reasons, candidate.summary, champion);
}

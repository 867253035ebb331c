/**
 * validateOffline: candidate and champion scored on the SAME held-out slice of the candidate's
 * training snapshot (rows never used to fit the candidate). A gate before shadow evaluation:
 * it catches a broken or useless candidate cheaply; the statistical promotion decision is made
 * on shadow traffic.
 */
import { ArtifactIntegrityError } from '../platform/registry/artifact-store.ts';
import { OnnxModelError } from '../platform/onnx/pool.ts';
import { heartbeat, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { readTrainingCsv } from '../training/csv.ts';
import { loadVersion, scoreRows, summaryMetrics, type SummaryMetrics } from './scoring.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import type { OutputsSummary } from '../detectors/quality/outputs-summary.ts';
import type { QualityMetric } from '../detectors/quality/quality-metric.ts';
import { validateBeyondBinary, type RetrainQuality } from './validation-beyond-binary.ts';

export interface ValidateOfflineInput {
  modelId: string;
  candidateVersion: string;
  championVersion?: string;
  snapshotId: string;
  /** The candidate must rank better than chance by this much. @default 0.55 */
  minRocAuc?: number;
  /** Largest allowed candidate log loss minus champion log loss on the slice. @default 0.02 */
  maxLogLossIncrease?: number;
  /** The policy's quality section: a multiclass or regression model is validated on its metric. @default the kind's default metric */
  quality?: RetrainQuality;
}

export interface ValidateOfflineResult {
  holdoutRows: number;
  /** A binary model's summary, or a multiclass or regression model's (validation-beyond-binary.ts). */
  candidate: SummaryMetrics | OutputsSummary | null;
  champion: SummaryMetrics | OutputsSummary | null;
  passed: boolean;
  reasons: string[];
  /** Multiclass and regression: the metric validated on. */
  metric?: QualityMetric;
  /** Multiclass and regression: the candidate's figure as quality in [0, 1] (a binary model's is its accuracy). */
  freshQuality?: number | null;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

export function createValidationActivity(ctx: RetrainContext) {
  return async function validateOffline(input: ValidateOfflineInput): Promise<ValidateOfflineResult> {
    const minRocAuc = input.minRocAuc ?? 0.55;
    const maxIncrease = input.maxLogLossIncrease ?? 0.02;
    const snapshot = await ctx.lineage.getSnapshot(input.snapshotId);
    if (!snapshot) throw nonRetryable('ValidationError', `training snapshot ${input.snapshotId} does not exist`);
    const candidateVersion = await ctx.registry
      .requireVersion(input.modelId, input.candidateVersion)
      .catch((err: Error) => {
        throw nonRetryable('ValidationError', err.message);
      });
    const kind = await modelKindOf(ctx.clickhouse, input.modelId);
    if (kind.kind !== 'binary') return validateBeyondBinary(ctx, input, kind, snapshot, candidateVersion);
    const reasons: string[] = [];
    const holdout = await readTrainingCsv(await ctx.artifacts.localPath(snapshot.holdoutUri), snapshot.features);
    const holdoutRows = holdout.rows.length;
    if (holdoutRows === 0) {
      return {
        holdoutRows,
        candidate: null,
        champion: null,
        passed: false,
        reasons: ['the held-out slice is empty: not enough labelled data to validate'],
      };
    }

    let candidate: SummaryMetrics;
    try {
      const runner = await loadVersion(ctx, candidateVersion);
      try {
        const scored = await scoreRows(runner, holdout.rows, 1024, () => heartbeat({ step: 'candidate' }));
        candidate = summaryMetrics(holdout.labels, scored.scores);
        if (scored.errors > 0)
          reasons.push(`candidate failed to score ${scored.errors} of ${holdoutRows} held-out rows`);
      } finally {
        await runner.unload();
      }
    } catch (err) {
      if (err instanceof ArtifactIntegrityError || err instanceof OnnxModelError) {
        return {
          holdoutRows,
          candidate: null,
          champion: null,
          passed: false,
          reasons: [`candidate ${input.candidateVersion} cannot be loaded: ${(err as Error).message}`],
        };
      }
      throw err;
    }

    let champion: SummaryMetrics | null = null;
    if (input.championVersion) {
      const championVersion = await ctx.registry.getVersion(input.modelId, input.championVersion);
      if (!championVersion) {
        reasons.push(
          `champion ${input.championVersion} is not in the registry: no side-by-side comparison on the held-out slice`,
        );
      } else {
        try {
          const runner = await loadVersion(ctx, championVersion);
          try {
            champion = summaryMetrics(
              holdout.labels,
              (await scoreRows(runner, holdout.rows, 1024, () => heartbeat({ step: 'champion' }))).scores,
            );
          } finally {
            await runner.unload();
          }
        } catch (err) {
          if (!(err instanceof ArtifactIntegrityError || err instanceof OnnxModelError)) throw err;
          reasons.push(
            `champion ${input.championVersion} could not be scored (${(err as Error).message}): no side-by-side comparison`,
          );
        }
      }
    }

    let passed = reasons.every((r) => !r.startsWith('candidate failed'));
    if (candidate.rocAuc === null) {
      passed = false;
      reasons.push('the held-out slice has a single class: ROC AUC undefined, cannot validate');
    } else if (candidate.rocAuc < minRocAuc) {
      passed = false;
      reasons.push(`candidate ROC AUC ${fmt(candidate.rocAuc)} is below the minimum ${fmt(minRocAuc)}`);
    }
    if (champion && candidate.logLoss !== null && champion.logLoss !== null) {
      const increase = candidate.logLoss - champion.logLoss;
      if (increase > maxIncrease) {
        passed = false;
        reasons.push(
          `candidate log loss ${fmt(candidate.logLoss)} exceeds the champion's ${fmt(champion.logLoss)} by ${fmt(increase)} (> ${fmt(maxIncrease)})`,
        );
      } else {
        reasons.push(
          `candidate log loss ${fmt(candidate.logLoss)} vs champion ${fmt(champion.logLoss)} on the same ${holdoutRows} held-out rows`,
        );
      }
    }
    if (passed)
      reasons.push(
        `candidate ROC AUC ${fmt(candidate.rocAuc)}, accuracy ${fmt(candidate.accuracy)} on ${holdoutRows} held-out rows`,
      );
    ctx.log.info({ modelId: input.modelId, candidate: input.candidateVersion, passed }, 'offline validation');
    return { holdoutRows, candidate, champion, passed, reasons };
  };
}

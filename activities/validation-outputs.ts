/**
 * A multiclass or regression candidate's outputs on its snapshot's held-out rows, kept with their
 * labels (`validation_outputs`): once the candidate is promoted, its label-free estimator is
 * fitted on them until it has labelled events of its own (operations/outcome-estimate.ts). The
 * held-out rows are the version's own outputs on labelled rows it never trained on — exactly
 * what the estimator needs, available the moment it starts serving.
 */
import { createHash } from 'node:crypto';
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import {
  storeValidationOutputs,
  type ValidationOutputRow,
} from '../platform/clickhouse/validation-outputs-repository.ts';
import type { RetrainContext } from './retrain-context.ts';

/** Held-out rows kept per version at most: the multiclass estimator's own cap on reference rows. */
export const MAX_STORED_OUTPUTS = 50_000;

/** One scored held-out row: its event, its label as the target's number, the version's outputs. */
export interface ScoredHoldoutRow {
  eventId: string;
  /** The class index (multiclass) or the value (regression). */
  truth: number;
  /** Class probabilities in the declared order (multiclass) or [prediction] (regression). */
  outputs: number[];
}

/** A row's place in the kept sample: the same event is always kept or left out, whatever the order. */
function sampleKey(eventId: string): number {
  return createHash('sha256').update(eventId).digest().readUInt32BE(0);
}

/** The rows to keep: all, or the `limit` with the smallest hash of their event id. */
export function keptRows<T extends { eventId: string }>(rows: readonly T[], limit = MAX_STORED_OUTPUTS): T[] {
  if (rows.length <= limit) return [...rows];
  return rows
    .map((row) => ({ row, key: sampleKey(row.eventId) }))
    .sort((a, b) => a.key - b.key || (a.row.eventId < b.row.eventId ? -1 : 1))
    .slice(0, limit)
    .map((r) => r.row);
}

/** The stored form of a scored held-out row. */
export function validationOutputRow(
  of: { modelId: string; version: string; snapshotId: string; scoredAt: number },
  kind: Exclude<ModelKindDeclaration, { kind: 'binary' }>,
  row: ScoredHoldoutRow,
): ValidationOutputRow {
  const multiclass = kind.kind === 'multiclass';
  return {
    model_id: of.modelId,
    model_version: of.version,
    snapshot_id: of.snapshotId,
    event_id: row.eventId,
    label: multiclass ? (kind.classes[row.truth] ?? '') : String(row.truth),
    label_numeric: multiclass ? null : row.truth,
    prediction_probabilities: multiclass
      ? Object.fromEntries(kind.classes.map((c, k) => [c, row.outputs[k] ?? 0]))
      : {},
    prediction_value: multiclass ? null : (row.outputs[0] ?? null),
    scored_at: of.scoredAt,
  };
}

/** Store the version's held-out outputs (a sample of at most {@link MAX_STORED_OUTPUTS}); returns how many. */
export async function storeHeldOutOutputs(
  ctx: RetrainContext,
  of: { modelId: string; version: string; snapshotId: string },
  kind: Exclude<ModelKindDeclaration, { kind: 'binary' }>,
  rows: readonly ScoredHoldoutRow[],
): Promise<number> {
  const kept = keptRows(rows);
  const scoredAt = Date.now();
  await storeValidationOutputs(
    ctx.clickhouse,
    kept.map((row) => validationOutputRow({ ...of, scoredAt }, kind, row)),
  );
  return kept.length;
}

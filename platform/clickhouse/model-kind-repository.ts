/**
 * What kind each model is (binary, multiclass with its classes, regression): written by
 * `halflife models register --kind`, read by the monitor's window read (which sums a window
 * needs) and by ingest (a multiclass event's probabilities must name the model's classes). A
 * model without a declaration is binary.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ModelKind } from '../../detectors/quality/quality-metric.ts';
import { queryRows } from './client.ts';

export type ModelKindDeclaration =
  { kind: 'binary' } | { kind: 'multiclass'; classes: string[] } | { kind: 'regression' };

/** Declare (or re-declare) a model's kind; the newest declaration wins. */
export async function declareModelKind(
  client: ClickHouseClient,
  modelId: string,
  declaration: ModelKindDeclaration,
  declaredBy: string,
): Promise<void> {
  await client.insert({
    table: 'model_kinds',
    values: [
      {
        model_id: modelId,
        kind: declaration.kind,
        classes: declaration.kind === 'multiclass' ? declaration.classes : [],
        declared_by: declaredBy,
      },
    ],
    format: 'JSONEachRow',
  });
}

/** Every declared model's kind (one model's, given `modelId`); models without a row are binary. */
export async function modelKinds(
  client: ClickHouseClient,
  modelId?: string,
): Promise<Map<string, ModelKindDeclaration>> {
  // Every model's: no parameter, so ingest's periodic re-read (its own connection) never waits in
  // the embedded engine's one-query lane behind a monitor read (ARCHITECTURE.md).
  const rows = await queryRows<{ model_id: string; kind: string; classes: string[] }>(
    client,
    `SELECT model_id, argMax(kind, declared_at) AS kind, argMax(classes, declared_at) AS classes
FROM model_kinds
${modelId === undefined ? '' : 'WHERE model_id = {model:String}'}
GROUP BY model_id
ORDER BY model_id`,
    modelId === undefined ? {} : { model: modelId },
  );
  return new Map(rows.map((r) => [r.model_id, declarationOf(r.kind as ModelKind, r.classes)]));
}

/** One model's kind: binary when it declared none. */
export async function modelKindOf(client: ClickHouseClient, modelId: string): Promise<ModelKindDeclaration> {
  return (await modelKinds(client, modelId)).get(modelId) ?? { kind: 'binary' };
}

function declarationOf(kind: ModelKind, classes: string[]): ModelKindDeclaration {
  if (kind === 'multiclass') return { kind, classes };
  return kind === 'regression' ? { kind } : { kind: 'binary' };
}

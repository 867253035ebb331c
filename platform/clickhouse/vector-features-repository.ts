/**
 * The vector features (embeddings) each model declares, with their exact dimension: written by
 * `halflife models register --vector`, read by ingest (every vector is checked against them) and by
 * the multivariate sample (which vectors to read).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

/** Declare (or re-declare) vector features of a model; the newest declaration of a feature wins. */
export async function declareVectorFeatures(
  client: ClickHouseClient,
  modelId: string,
  features: ReadonlyMap<string, number>,
  declaredBy: string,
): Promise<void> {
  if (features.size === 0) return;
  await client.insert({
    table: 'vector_features',
    values: [...features].map(([feature, dimension]) => ({
      model_id: modelId,
      feature,
      dimension,
      declared_by: declaredBy,
    })),
    format: 'JSONEachRow',
  });
}

/** Every model's declared vector features (one model's, given `modelId`): model → feature → dimension. */
export async function vectorDeclarations(
  client: ClickHouseClient,
  modelId?: string,
): Promise<Map<string, Map<string, number>>> {
  const rows = await queryRows<{ model_id: string; feature: string; dimension: number }>(
    client,
    // Every model's: no parameter, so ingest's periodic re-read (its own connection) never waits
    // in the embedded engine's one-query lane behind a monitor read (ARCHITECTURE.md).
    `SELECT model_id, feature, argMax(dimension, declared_at) AS dimension
FROM vector_features
${modelId === undefined ? '' : 'WHERE model_id = {model:String}'}
GROUP BY model_id, feature
ORDER BY model_id, feature`,
    modelId === undefined ? {} : { model: modelId },
  );
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let model = out.get(r.model_id);
    if (!model) out.set(r.model_id, (model = new Map()));
    model.set(r.feature, Number(r.dimension));
  }
  return out;
}

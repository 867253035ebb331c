import type { ClickHouseClient } from '@clickhouse/client';
import { recordDecision } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseLineageRepository } from '../../platform/clickhouse/lineage-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { labelRow, scoringEventRow } from '../helpers/stored-rows.ts';

/**
 * A small, fully linked model history for the audit, GDPR and API tests: an imported v1, a v2
 * retrained on a snapshot holding subjects alice and bob (retrain → promote decisions), events,
 * labels, a dead letter and shadow results of both subjects, and the snapshot's CSV files.
 */
export interface SeededModel {
  model: string;
  /** Event ids per subject. */
  events: Record<'alice' | 'bob', string[]>;
  snapshotId: string;
  retrainDecisionId: string;
  promoteDecisionId: string;
  trainUri: string;
}

const features = { numeric: ['x'], categorical: [] };

export async function seedModel(
  client: ClickHouseClient,
  dataDir: string,
  model: string,
  subjects: { alice: string; bob: string } = { alice: 'alice', bob: 'bob' },
): Promise<SeededModel> {
  const registry = new ClickHouseRegistryRepository(client);
  const lineage = new ClickHouseLineageRepository(client);
  const artifacts = LocalArtifactStore.forDataDir(dataDir);
  const t0 = Date.parse('2026-01-01T00:00:00Z');

  const events: SeededModel['events'] = { alice: [], bob: [] };
  const eventRows: ScoringEventRow[] = [];
  const labelRows: LabelRow[] = [];
  for (const [who, subject] of Object.entries(subjects) as Array<['alice' | 'bob', string]>) {
    for (let i = 0; i < 4; i++) {
      const id = `${model}-${who}-${i}`;
      events[who].push(id);
      eventRows.push(
        scoringEventRow({
          event_id: id,
          model_id: model,
          ts: t0 + i * 60_000,
          subject_id: subject,
          num_features: { x: i },
          source_ref: 'seed',
        }),
      );
      labelRows.push(
        labelRow({
          event_id: id,
          label: String(i % 2),
          label_numeric: i % 2,
          label_ts: t0 + i * 60_000 + 1000,
          source_ref: 'seed',
        }),
      );
    }
  }
  // One event scored in shadow too, so scored-by shows both scorings.
  eventRows.push({
    ...eventRows[0]!,
    model_id: `${model}.shadow`,
    model_version: 'v2',
    metadata: { shadow: 'true', shadow_of: model },
  });
  await client.insert({ table: 'scoring_events', values: eventRows, format: 'JSONEachRow' });
  await client.insert({ table: 'labels', values: labelRows, format: 'JSONEachRow' });
  await client.insert({
    table: 'dead_letters',
    format: 'JSONEachRow',
    values: [
      {
        dead_letter_id: `${model}-dl-1`,
        source: 'kafka',
        topic: 't',
        partition: 0,
        offset: 1,
        record_key: '',
        payload: JSON.stringify({ event_id: `${model}-alice-x`, subject_id: subjects.alice, model_id: model }),
        reason: 'bad',
        error_path: 'prediction',
        model_id: model,
      },
      {
        dead_letter_id: `${model}-dl-2`,
        source: 'kafka',
        topic: 't',
        partition: 0,
        offset: 2,
        record_key: '',
        payload: JSON.stringify({ event_id: events.alice[1], label: 'x' }),
        reason: 'bad label',
        error_path: 'label',
        model_id: '',
      },
      {
        dead_letter_id: `${model}-dl-3`,
        source: 'kafka',
        topic: 't',
        partition: 0,
        offset: 3,
        record_key: '',
        payload: JSON.stringify({ event_id: events.bob[0], subject_id: subjects.bob }),
        reason: 'bad',
        error_path: 'x',
        model_id: model,
      },
    ],
  });
  await client.insert({
    table: 'shadow_results',
    format: 'JSONEachRow',
    values: [...events.alice, ...events.bob].map((id, i) => ({
      evaluation_id: `${model}-eval`,
      model_id: model,
      candidate_version: 'v2',
      champion_version: 'v1',
      event_id: id,
      source: 'live',
      label: i % 2,
      champion_score: 0.5,
      candidate_score: 0.6,
      champion_latency_ms: 1,
      candidate_latency_ms: 1,
      evaluated_at: t0,
    })),
  });
  // v2's outputs on the held-out rows it was validated on (a regressor's, for brevity).
  await client.insert({
    table: 'validation_outputs',
    format: 'JSONEachRow',
    values: [...events.alice, ...events.bob].map((id, i) => ({
      model_id: model,
      model_version: 'v2',
      snapshot_id: `${model}-snap`,
      event_id: id,
      label: String(i),
      label_numeric: i,
      prediction_probabilities: {},
      prediction_value: i + 0.5,
      scored_at: t0,
    })),
  });
  // A multiclass evaluation's pairs of two of alice's events.
  await client.insert({
    table: 'shadow_outcome_results',
    format: 'JSONEachRow',
    values: events.alice.slice(0, 2).map((id) => ({
      evaluation_id: `${model}-eval-kinds`,
      model_id: model,
      candidate_version: 'v2',
      champion_version: 'v1',
      event_id: id,
      source: 'live',
      kind: 'multiclass',
      loss: 'logLoss',
      label_class: 'a',
      label_value: null,
      champion_probabilities: { a: 0.6, b: 0.4 },
      candidate_probabilities: { a: 0.7, b: 0.3 },
      champion_value: null,
      candidate_value: null,
      champion_loss: -Math.log(0.6),
      candidate_loss: -Math.log(0.7),
      champion_latency_ms: 1,
      candidate_latency_ms: 1,
      evaluated_at: t0,
    })),
  });

  // v1: imported, production first.
  const a1 = await artifacts.put(`${model}/v1/model.onnx`, Buffer.from('not really onnx v1'));
  await registry.registerVersion({
    modelId: model,
    version: 'v1',
    stage: 'production',
    artifactUri: a1.uri,
    sha256: a1.sha256,
    trainer: 'import',
    features,
    codeVersion: 'test',
    createdBy: 'seed',
  });

  // v2: trained on a snapshot with every event of both subjects.
  const retrainId = `${model}-retrain-1`;
  const snapshotId = `${model}-snap-1`;
  const header = 'event_id,x,label\n';
  const all = [...events.alice, ...events.bob];
  const train = await artifacts.put(
    `${model}/snapshots/${snapshotId}/train.csv`,
    Buffer.from(
      header +
        all
          .slice(0, 6)
          .map((id, i) => `${id},${i},${i % 2}\n`)
          .join(''),
    ),
  );
  const holdout = await artifacts.put(
    `${model}/snapshots/${snapshotId}/holdout.csv`,
    Buffer.from(
      header +
        all
          .slice(6)
          .map((id, i) => `${id},${i},${i % 2}\n`)
          .join(''),
    ),
  );
  await lineage.insertLineage(
    all.map((id, i) => ({
      snapshot_id: snapshotId,
      model_id: model,
      event_id: id,
      subject_id: id.includes('-alice-') ? subjects.alice : subjects.bob,
      split: i < 6 ? 'train' : 'holdout',
    })),
  );
  await lineage.insertSnapshot({
    snapshotId,
    modelId: model,
    retrainId,
    window: { start: new Date(t0).toISOString(), end: new Date(t0 + 3_600_000).toISOString() },
    rowCount: 8,
    labelledRows: 8,
    trainRows: 6,
    holdoutRows: 2,
    skippedRows: 0,
    holdoutFraction: 0.25,
    excludedSubjects: 0,
    contentHash: 'abc',
    features,
    trainUri: train.uri,
    holdoutUri: holdout.uri,
    createdAt: new Date(Date.now() - 5000).toISOString(),
  });
  const retrainDecisionId = `halflife-monitor-${model}/run/7`;
  const policy = { name: 'cost-aware', version: '1', hash: 'f'.repeat(64) };
  const decision = (
    id: string,
    kind: 'approve' | 'retrain' | 'promote',
    at: number,
    version: string,
    details: unknown,
  ) =>
    recordDecision(client, {
      decisionId: id,
      modelId: model,
      modelVersion: version,
      workflowId: `halflife-monitor-${model}`,
      runId: 'run',
      decidedAt: at,
      kind,
      actor: kind === 'approve' ? 'carol' : 'system',
      reason: `${kind} for the test`,
      policy,
      statistics: { window: null },
      thresholds: null,
      windows: null,
      trainingWindow: null,
      lineageId: kind === 'promote' ? snapshotId : '',
      details,
    });
  await decision(`halflife-monitor-${model}/run/6`, 'approve', Date.now(), 'v1', null);
  await decision(retrainDecisionId, 'retrain', Date.now() + 1, 'v1', { trigger: 'cost-aware' });
  const a2 = await artifacts.put(`${model}/v2/model.onnx`, Buffer.from('not really onnx v2'));
  await registry.registerVersion({
    modelId: model,
    version: 'v2',
    artifactUri: a2.uri,
    sha256: a2.sha256,
    trainer: 'builtin:logistic-regression',
    features,
    codeVersion: 'test',
    createdBy: 'retrain',
    lineageId: snapshotId,
    retrainId,
    parentVersion: 'v1',
  });
  await registry.setStage(model, 'v2', 'production', 'system', 'promoted by the test retrain');
  const promoteDecisionId = `${retrainId}/promote/1`;
  await decision(promoteDecisionId, 'promote', Date.now(), 'v2', {
    retrainId,
    requestedBy: retrainDecisionId,
    championVersion: 'v1',
  });
  return { model, events, snapshotId, retrainDecisionId, promoteDecisionId, trainUri: train.uri };
}

/**
 * scoreProbe scores only the events its probe has not scored yet, and counts exactly what
 * re-reading and re-scoring every event since the probe started counts: at each of three ticks,
 * the probe's result equals that of a fresh probe (nothing stored, so everything read and scored)
 * on the same window and arrival instant — with labels that arrive after an earlier tick, labels
 * corrected between ticks, a label corrected to something that is not a class, and the oldest-N
 * cap — and its stored pairs are the fresh probe's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreProbeInput, ScoreProbeResult } from '../../activities/probe.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository, encodeLabel } from '../../platform/clickhouse/ingest-repository.ts';
import type { RawFeatures } from '../../platform/onnx/features.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { testConfig } from '../helpers/stack.ts';
import {
  openRetrainTestStack,
  registerTrainedModel,
  seedLabelledEvents,
  T0,
  type RetrainTestStack,
} from './training-fixtures.ts';

const SECOND = 1000;
const N = 2000;
/** The three ticks: each window from the probe's start to its end, labels as arrived two minutes after. */
const TICKS = [600, 1200, 2000].map((s) => ({ end: T0 + s * SECOND, arrivedBy: T0 + (s + 120) * SECOND }));

interface StoredPair {
  event_id: string;
  label: number;
  champion_score: number;
  candidate_score: number;
}

describe('a probe scores each event once and counts what a full re-read counts (chDB, onnxruntime)', () => {
  let stack: RetrainTestStack;
  let challenger: ModelVersion;
  const modelId = 'probe-incremental';
  // The champion (v0, outside the registry) served a score that leans on f1 alone.
  const championScore = (row: RawFeatures) => Math.min(1, Math.max(0, ((row.f1 as number) - 3) / 5));

  beforeAll(async () => {
    stack = await openRetrainTestStack(testConfig());
    ({ version: challenger } = await registerTrainedModel(stack.registry, stack.artifacts, modelId, {
      seed: 31,
      n: 3000,
      concept: 0,
      stage: 'probe',
    }));
    // Labels a minute after their events; then, over the first 400 s, events whose labels arrive
    // 20 minutes later: after the first tick's instant, before the second's or the third's.
    const ids = await seedLabelledEvents(stack.ch.client, modelId, { seed: 5, n: N, score: championScore });
    await seedLabelledEvents(stack.ch.client, modelId, {
      seed: 6,
      n: 200,
      prefix: 'late',
      start: T0 + 500,
      stepMs: 2 * SECOND,
      score: championScore,
      labelDelayMs: 20 * 60 * SECOND,
    });
    const label = (eventId: string, value: string, at: number) =>
      encodeLabel({
        event_id: eventId,
        label: value,
        label_numeric: value === '0' || value === '1' ? Number(value) : null,
        label_ts: at,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      });
    await new ClickHouseIngestRepository(stack.ch.client).insertEncoded('labels', [
      // Corrections between the first and second ticks (relabelled), and between the second and third (not a class).
      ...ids
        .slice(0, 500)
        .flatMap((id, i) => (i % 10 === 3 ? [label(id, i % 20 === 3 ? '1' : '0', T0 + 1000 * SECOND)] : [])),
      ...ids.slice(0, 500).flatMap((id, i) => (i % 50 === 7 ? [label(id, 'maybe', T0 + 1500 * SECOND)] : [])),
    ]);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  const probe = (probeId: string, tick: (typeof TICKS)[number], maxEvents: number): Promise<ScoreProbeResult> => {
    const input: ScoreProbeInput = {
      modelId,
      probeId,
      championVersion: 'v0',
      challengerVersion: challenger.version,
      window: { start: T0, end: tick.end },
      labelsArrivedBy: tick.arrivedBy,
      maxEvents,
    };
    return stack.acts.scoreProbe(input);
  };

  const storedPairs = async (evaluationId: string): Promise<Map<string, StoredPair>> => {
    const rows = await queryRows<StoredPair>(
      stack.ch.client,
      `SELECT event_id, label, champion_score, candidate_score FROM shadow_results FINAL WHERE evaluation_id = {e:String}`,
      { e: evaluationId },
    );
    return new Map(rows.map((r) => [r.event_id, r]));
  };

  for (const maxEvents of [20_000, 900])
    it(`at each tick the counts equal a full re-read's (at most ${maxEvents} events)`, async () => {
      let scoredOnce = 0;
      let last: ScoreProbeResult | null = null;
      for (const [k, tick] of TICKS.entries()) {
        const incremental = await probe(`incremental-${maxEvents}`, tick, maxEvents);
        const full = await probe(`full-${maxEvents}-${k}`, tick, maxEvents);
        const { evaluationId: _a, scored, ...counted } = incremental;
        const { evaluationId: _b, scored: fullScored, ...fullCounted } = full;
        expect(counted).toEqual(fullCounted);
        expect(fullScored).toBe(full.read);
        // Only the events no earlier tick scored.
        if (k === 0) expect(scored).toBe(full.read);
        else expect(scored).toBeLessThan(full.read);
        scoredOnce += scored ?? 0;
        last = incremental;
      }
      expect(last!.counts.events).toBeGreaterThan(800);
      const incrementalPairs = await storedPairs(last!.evaluationId);
      expect(incrementalPairs.size).toBe(scoredOnce);
      const fullPairs = await storedPairs((await probe(`full-${maxEvents}-final`, TICKS[2]!, maxEvents)).evaluationId);
      for (const [id, pair] of fullPairs) expect(incrementalPairs.get(id), id).toEqual(pair);
    });
});

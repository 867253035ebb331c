import { describe, expect, it } from 'vitest';
import { scoreSideBySide } from '../../../activities/scoring.ts';
import { encodeBatch, type EncodedBatch } from '../../../platform/onnx/features.ts';
import type { ModelRunner } from '../../../platform/onnx/runner.ts';

const FEATURES = { numeric: ['x'], categorical: [] };

/** A runner that returns x·factor per row, records each call, and reports `runMs` from a schedule. */
function recordingRunner(name: string, factor: number, calls: string[], runMs: (call: number) => number): ModelRunner {
  let call = 0;
  return {
    ref: {
      modelId: 'm',
      version: name,
      artifactUri: 'file://x',
      sha256: '0'.repeat(64),
      features: FEATURES,
      output: { kind: 'regression' },
    },
    key: name,
    info: {} as ModelRunner['info'],
    score: () => Promise.reject(new Error('not used')),
    async scoreEncoded(batch: EncodedBatch) {
      calls.push(`${name}:${batch.rows}`);
      const scores = Float64Array.from(batch.numeric, (x) => x * factor);
      return { scores, width: 1, runMs: runMs(call++), ranIn: 'caller' as const };
    },
    unload: () => Promise.resolve(),
  };
}

const rows = (n: number) =>
  encodeBatch(
    FEATURES,
    Array.from({ length: n }, (_, i) => ({ x: i })),
  );

describe('scoreSideBySide', () => {
  it('warms both sides up untimed, then alternates which goes first batch by batch (ABBA)', async () => {
    const calls: string[] = [];
    const a = recordingRunner('a', 1, calls, (c) => (c === 0 ? 1000 : 1));
    const b = recordingRunner('b', 2, calls, (c) => (c === 0 ? 1000 : 2));
    const [sa, sb] = await scoreSideBySide({ runner: a, encoded: rows(10) }, { runner: b, encoded: rows(10) }, 3);
    expect(calls).toEqual(['a:3', 'b:3', 'a:3', 'b:3', 'b:3', 'a:3', 'b:3', 'a:3', 'a:1', 'b:1']);
    // The warm-up's slow first run is not a latency sample.
    expect(sa.batchMs).toEqual([1, 1, 1, 1]);
    expect(sb.batchMs).toEqual([2, 2, 2, 2]);
    expect([...sa.scores]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...sb.scores]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(sa.latencyMs[9]).toBe(1);
    expect(sb.latencyMs[0]).toBeCloseTo(2 / 3, 12);
  });

  it('counts a failed batch as errors on its side only', async () => {
    const calls: string[] = [];
    const a = recordingRunner('a', 1, calls, () => 1);
    const failing: ModelRunner = {
      ...recordingRunner('b', 1, calls, () => 1),
      scoreEncoded: () => Promise.reject(new Error('boom')),
    };
    const [sa, sb] = await scoreSideBySide({ runner: a, encoded: rows(5) }, { runner: failing, encoded: rows(5) }, 2);
    expect(sa.errors).toBe(0);
    expect(sb.errors).toBe(5);
    expect([...sb.scores].every(Number.isNaN)).toBe(true);
  });

  it('refuses two sides that encode different rows', async () => {
    const calls: string[] = [];
    await expect(
      scoreSideBySide(
        { runner: recordingRunner('a', 1, calls, () => 1), encoded: rows(4) },
        { runner: recordingRunner('b', 1, calls, () => 1), encoded: rows(5) },
      ),
    ).rejects.toThrow(/encode 4 and 5 rows/);
  });
});

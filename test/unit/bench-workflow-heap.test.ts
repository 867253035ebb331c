import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { compareSnapshots } from '../../bench/workflow-heap.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench workflow-heap compare', () => {
  it('finds the objects kept between two snapshots by their shape and constructor', () => {
    const a = v8.writeHeapSnapshot(path.join(dir, 'a.heapsnapshot'));
    class KeptTurn {
      constructor(readonly turn: number) {}
    }
    const kept = Array.from({ length: 5_000 }, (_, i) => ({
      keptProbeAlpha: `turn ${i}`,
      keptProbeBeta: new KeptTurn(i),
    }));
    const b = v8.writeHeapSnapshot(path.join(dir, 'b.heapsnapshot'));
    const grown = compareSnapshots(a, b, 1_000);
    const shape = grown.byShape.find((r) => r.key === 'keptProbeAlpha,keptProbeBeta');
    expect(shape?.count).toBeGreaterThanOrEqual(5_000);
    expect(grown.byConstructor.find((r) => r.key === 'KeptTurn')?.count).toBeGreaterThanOrEqual(5_000);
    expect(kept).toHaveLength(5_000);
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { heapGraph, retainedByField } from '../../bench/lib/heap-graph.ts';
import { compareSnapshots, retainedReport } from '../../bench/workflow-heap.ts';

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

/** A made-up snapshot: `edges` as [from, type, name, to]; every node an object of its own self size. */
function tinySnapshot(sizes: number[], edges: [number, 'property' | 'weak' | 'element', string, number][]) {
  const strings = ['', ...new Set(edges.map((e) => e[2]))];
  const edgeTypes = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
  const nodeFields = ['type', 'name', 'id', 'self_size', 'edge_count', 'detachedness'];
  const nodes = sizes.flatMap((size, n) => [3, 0, n * 2 + 1, size, edges.filter((e) => e[0] === n).length, 0]);
  const sorted = [...edges].sort((a, b) => a[0] - b[0]);
  return {
    snapshot: {
      meta: {
        node_fields: nodeFields,
        node_types: [['hidden', 'array', 'string', 'object']] as [string[]],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [edgeTypes] as [string[]],
      },
    },
    nodes,
    edges: sorted.flatMap(([, type, name, to]) => [
      edgeTypes.indexOf(type),
      strings.indexOf(name),
      to * nodeFields.length,
    ]),
    strings,
  };
}

describe('bench workflow-heap dominators', () => {
  it('keeps an object by its strong paths only: shared objects belong to neither holder, a weak edge keeps nothing', () => {
    // 0 root → 1 a, 2 b; a → 3 shared, b → 3 shared; 3 → 4 inner; a → 5 own; b -weak→ 5.
    const graph = heapGraph(
      tinySnapshot(
        [0, 10, 20, 40, 80, 160],
        [
          [0, 'property', 'a', 1],
          [0, 'property', 'b', 2],
          [1, 'property', 'shared', 3],
          [2, 'property', 'shared', 3],
          [3, 'property', 'inner', 4],
          [1, 'property', 'own', 5],
          [2, 'weak', 'own', 5],
        ],
      ),
    );
    expect([...graph.idom]).toEqual([-1, 0, 0, 0, 3, 1]);
    expect([...graph.retained]).toEqual([310, 170, 20, 120, 80, 160]);
    expect(Object.fromEntries(retainedByField(graph, 1))).toEqual({ '(self)': 10, own: 160 });
  });
});

describe('bench workflow-heap retained', () => {
  it('splits what each instance of a class keeps alive by the fields that hold it', () => {
    const common = { commonRows: Array.from({ length: 1_000 }, (_, i) => ({ row: `common ${i}` })) };
    class SlimHeapProbe {
      readonly bulky = Array.from({ length: 2_000 }, (_, i) => ({ turn: i, label: `bulky ${i}` }));
      readonly small = { note: 'small' };
      readonly left: { both: { i: string }[] };
      readonly right: { both: { i: string }[] };
      #hidden = Array.from({ length: 500 }, (_, i) => ({ hidden: `hidden ${i}` }));
      constructor(readonly common: object) {
        this.left = { both: Array.from({ length: 300 }, (_, i) => ({ i: `both ${i}` })) };
        this.right = this.left;
      }
      get hiddenCount() {
        return this.#hidden.length;
      }
    }
    const probes = Array.from({ length: 4 }, () => new SlimHeapProbe(common));
    const file = v8.writeHeapSnapshot(path.join(dir, 'retained.heapsnapshot'));
    const [report] = retainedReport(file, ['SlimHeapProbe'], { depth: 2, minBytes: 0 }).classes;
    const under = (field: string) =>
      report!.fields
        .filter((r) => r.field === field || r.field.startsWith(`${field}.`))
        .reduce((sum, r) => sum + r.meanBytes, 0);
    expect(report!.instances).toBe(4);
    // 2,000 objects of a number and a string: well over 32 bytes each.
    expect(under('bulky')).toBeGreaterThan(2_000 * 32);
    expect(under('small')).toBeLessThan(1_024);
    // Held by both fields of the same instance: neither field's alone.
    expect(under('left + right')).toBeGreaterThan(300 * 32);
    expect(under('left')).toBe(0);
    expect(under('#hidden')).toBeGreaterThan(500 * 32);
    // Shared by every instance: no instance's.
    expect(under('common')).toBe(0);
    expect(report!.fields.reduce((sum, r) => sum + r.meanBytes, 0)).toBeCloseTo(report!.meanBytes, 6);
    // By kind of object, the same bytes: the first class reported leaves nothing out.
    expect(report!.ownMeanBytes).toBeCloseTo(report!.meanBytes, 6);
    expect(report!.kinds.find((k) => k.kind === 'SlimHeapProbe')?.meanBytes).toBeGreaterThan(0);
    expect(probes.map((p) => p.hiddenCount)).toEqual([500, 500, 500, 500]);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import {
  beyondBinaryMarkdown,
  compareMulticlass,
  type MulticlassOutput,
} from '../../bench/estimation-beyond-binary.ts';
import { Random } from '../../detectors/random.ts';

/** A NannyML-shaped output whose "NannyML" estimate is the realised value + 0.02 in every chunk. */
function multiclassOutput(): MulticlassOutput {
  const random = new Random(5);
  const events = (n: number) => {
    const probabilities: number[][] = [];
    const predicted: number[] = [];
    const truth: number[] = [];
    for (let i = 0; i < n; i++) {
      const logits = [random.normal(0, 1.5), random.normal(0, 1.5), random.normal(0, 1.5)];
      const e = logits.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      const u = random.next();
      truth.push(u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2);
      predicted.push(p.indexOf(Math.max(...p)));
      probabilities.push(p);
    }
    return { probabilities, predicted, truth };
  };
  const analysis = events(2000);
  const chunks = [0, 1000].map((start) => {
    const end = start + 1000;
    const right = analysis.truth.slice(start, end).filter((t, i) => t === analysis.predicted[start + i]).length;
    const accuracy = right / 1000;
    return {
      start,
      end,
      estimated: { accuracy: accuracy + 0.02, f1: null },
      realised: { accuracy, f1: null },
    };
  });
  return {
    nannyml: 'test',
    classes: ['a', 'b', 'c'],
    reference: events(3000),
    analysis,
    chunkings: [{ chunkSize: 1000, chunks }],
  };
}

describe('the multiclass and regression estimation bench', () => {
  it('reports each tool’s mean absolute error on the same chunks, skipping metrics a chunk lacks', () => {
    const [accuracy, f1] = compareMulticlass(multiclassOutput());
    expect(accuracy).toMatchObject({ dataset: 'multiclass', chunkSize: 1000, metric: 'accuracy', chunks: 2 });
    expect(accuracy!.nannyml).toBeCloseTo(0.02, 12);
    // Calibrated probabilities: halflife's estimate lands within sampling noise of realised.
    expect(accuracy!.halflife).toBeLessThan(0.03);
    expect(accuracy!.ratio).toBeCloseTo(accuracy!.halflife / 0.02, 9);
    expect(f1).toMatchObject({ metric: 'f1', chunks: 0 });
    const table = beyondBinaryMarkdown([accuracy!], ['Machine: test']);
    expect(table).toContain('| multiclass | 1000 | 2 | accuracy | 0.02000 |');
  });
});

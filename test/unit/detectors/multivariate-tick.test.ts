import { describe, expect, it } from 'vitest';
import { multivariateDrift, type SampledRows } from '../../../detectors/drift/multivariate/index.ts';
import { numericReferenceProfile, numericWindowCounts } from '../../../detectors/drift/profiles.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { MonitorReference, WindowObservation } from '../../../detectors/monitor/types.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function rows(n: number, rho: number, seed: number): SampledRows {
  const random = new Random(seed);
  const x1: number[] = [];
  const x2: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = random.normal();
    x1.push(a);
    x2.push(rho * a + Math.sqrt(1 - rho * rho) * random.normal());
  }
  return { rows: n, numeric: { x1, x2 }, categorical: {} };
}

describe('the tick with multivariate drift', () => {
  const sample = rows(1000, 0.8, 1);
  const reference: MonitorReference = {
    referenceId: 'ref',
    modelVersion: 'v1',
    features: {
      x1: numericReferenceProfile(sample.numeric.x1 as number[]),
      x2: numericReferenceProfile(sample.numeric.x2 as number[]),
    },
    prediction: null,
    cbpe: null,
  };
  const observation = (window: SampledRows, multivariate: boolean): WindowObservation => ({
    start: T0,
    end: T0 + HOUR,
    events: window.rows,
    versions: [{ version: 'v1', events: window.rows, trainedAt: T0 - HOUR }],
    deadLettered: 0,
    features: Object.fromEntries(
      ['x1', 'x2'].map((name) => [
        name,
        numericWindowCounts(
          window.numeric[name] as number[],
          (reference.features[name] as ReturnType<typeof numericReferenceProfile>).cuts,
        ),
      ]),
    ),
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    ...(multivariate ? { multivariate: multivariateDrift(sample, window) } : {}),
  });
  const policy = parsePolicy({
    name: 'drift',
    version: '1',
    model: 'm',
    trigger: { kind: 'drift-triggered', consecutiveWindows: 1 },
    guards: { cooldown: '0s' },
  }).policy;
  const flipped = rows(1000, -0.8, 2);
  const state = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 - HOUR };

  it('without the tests, the flipped correlation is no drift; with them, it is dataset drift and a drift trigger fires', () => {
    const without = monitorTick(state, reference, observation(flipped, false), policy, T0 + HOUR);
    expect(without.evaluation.drift!.dataset_drift).toBe(false);
    expect(without.evaluation.drift!.multivariate).toBeUndefined();
    expect(without.decision.kind).toBe('no-action');

    const withTests = monitorTick(state, reference, observation(flipped, true), policy, T0 + HOUR);
    expect(withTests.evaluation.drift!.n_drifted).toBe(0);
    expect(withTests.evaluation.drift!.dataset_drift).toBe(true);
    expect(withTests.evaluation.window.drift?.multivariateTests?.length).toBeGreaterThan(0);
    expect(withTests.decision.kind).toBe('retrain');
    expect(withTests.decision.reason).toMatch(/multivariate: .*domain-classifier/);
    expect(withTests.decision.inputs.latestMultivariateTests).toMatch(/domain-classifier/);
  });

  it('a window like the reference stays quiet with the tests', () => {
    const quiet = monitorTick(state, reference, observation(rows(1000, 0.8, 3), true), policy, T0 + HOUR);
    expect(quiet.evaluation.drift!.dataset_drift).toBe(false);
    expect(quiet.evaluation.window.drift?.multivariateTests).toEqual([]);
    expect(quiet.decision.kind).toBe('no-action');
  });
});

describe('the policy section', () => {
  const base = { name: 'p', version: '1', model: 'm', trigger: { kind: 'manual' } };

  it('is absent unless set (the content hash of older policies stays), and defaulted when set', () => {
    expect(parsePolicy(base).policy.multivariate).toBeUndefined();
    const set = parsePolicy({ ...base, multivariate: { enabled: true, sampleRows: 500 } }).policy.multivariate!;
    expect(set).toMatchObject({ enabled: true, sampleRows: 500, alpha: 0.01, minAuc: 0.55, explainedVariance: 0.65 });
    expect(set.tests).toEqual(['domain-classifier', 'pca-reconstruction', 'mmd']);
  });

  it('names what is wrong', () => {
    expect(() => parsePolicy({ ...base, multivariate: { tests: ['ks'] } })).toThrow(
      /multivariate\.tests.*expected one of/,
    );
    expect(() => parsePolicy({ ...base, multivariate: { minAuc: 0.4 } })).toThrow(/minAuc.*0\.5 is chance/);
    expect(() => parsePolicy({ ...base, multivariate: { sampleRows: 10 } })).toThrow(/sampleRows.*at least 20/);
    expect(() => parsePolicy({ ...base, multivariate: { sample: 10 } })).toThrow(/multivariate/);
  });
});

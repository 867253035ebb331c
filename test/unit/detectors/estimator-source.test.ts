import { describe, expect, it } from 'vitest';
import {
  chooseEstimatorSource,
  estimatorFitReasons,
  formatCount,
  noEstimatorReason,
} from '../../../detectors/quality/estimator-source.ts';

describe('the rows a multiclass or regression estimator is fitted on', () => {
  it("takes the version's own labelled events once they reach the estimator's minimum, whatever the held-out rows", () => {
    expect(chooseEstimatorSource({ own: 500, holdout: 5000, minimum: 500 })).toBe('reference-events');
    expect(chooseEstimatorSource({ own: 1200, holdout: 0, minimum: 1000 })).toBe('reference-events');
  });

  it('falls back on the held-out rows scored at validation when the own events fall short and the held-out rows are more', () => {
    // A version a retrain trained and promoted: no events of its own in its reference.
    expect(chooseEstimatorSource({ own: 0, holdout: 1240, minimum: 500 })).toBe('validation-holdout');
    // Too few either way: the larger source, which the reasons then call too few.
    expect(chooseEstimatorSource({ own: 120, holdout: 300, minimum: 500 })).toBe('validation-holdout');
    expect(chooseEstimatorSource({ own: 300, holdout: 120, minimum: 500 })).toBe('reference-events');
    expect(chooseEstimatorSource({ own: 300, holdout: 300, minimum: 500 })).toBe('reference-events');
  });

  it('has none when neither source has a row', () => {
    expect(chooseEstimatorSource({ own: 0, holdout: 0, minimum: 500 })).toBeNull();
  });

  it('names the source in the reasons, and a source below the minimum as too few', () => {
    expect(
      estimatorFitReasons(
        { source: 'validation-holdout', rows: 1240, version: 'v3', snapshotId: 'snap-abc' },
        'CBPE',
        500,
      ),
    ).toEqual([
      'CBPE fitted on 1,240 held-out snapshot rows scored by v3 at validation (snapshot snap-abc): the version has no labelled events of its own in its reference yet',
    ]);
    expect(
      estimatorFitReasons({ source: 'validation-holdout', rows: 312, version: 'v3', snapshotId: null }, 'DLE', 1000),
    ).toEqual([
      'DLE fitted on 312 held-out snapshot rows scored by v3 at validation: the version has no labelled events of its own in its reference yet',
      "the version's 312 held-out rows are fewer than the 1,000 DLE needs to be trusted",
    ]);
    expect(estimatorFitReasons({ source: 'reference-events', rows: 1500, version: 'v1' }, 'DLE', 1000)).toEqual([
      "DLE fitted on 1,500 labelled events of version v1 in the reference's window",
    ]);
    expect(estimatorFitReasons({ source: 'reference-events', rows: 40, version: '' }, 'CBPE', 500)).toEqual([
      "CBPE fitted on 40 labelled events in the reference's window",
      '40 labelled events are fewer than the 500 CBPE needs to be trusted',
    ]);
  });

  it('says that neither source had a row', () => {
    expect(noEstimatorReason('CBPE', 'with probabilities', 'v9')).toBe(
      'no CBPE estimator: the reference has no labelled events with probabilities of version v9, and no held-out snapshot rows were scored by v9 at validation',
    );
    expect(noEstimatorReason('DLE', 'with a numeric prediction', '')).toBe(
      'no DLE estimator: the reference has no labelled events with a numeric prediction',
    );
  });

  it('groups thousands whatever the locale', () => {
    expect([0, 999, 1000, 1240, 50000, 1234567].map(formatCount)).toEqual([
      '0',
      '999',
      '1,000',
      '1,240',
      '50,000',
      '1,234,567',
    ]);
  });
});

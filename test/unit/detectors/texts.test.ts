import { describe, expect, it } from 'vitest';
import { fitDecay } from '../../../detectors/decay/index.ts';
import { evaluateRetrainEconomics } from '../../../detectors/economics/index.ts';
import type { RetrainEconomics } from '../../../detectors/economics/index.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState } from '../../../detectors/policy/index.ts';
import { Random } from '../../../detectors/random.ts';
import {
  composeDecisionReason,
  describeEconomics,
  displayReason,
  formatDuration,
  formatDurationText,
  formatHours,
  formatInstant,
  formatMoney,
  reasonHeadline,
} from '../../../detectors/texts/index.ts';
import { demoPolicy } from '../../helpers/policies.ts';

const H = 3_600_000;

describe('formatDuration: one human form, about two significant units', () => {
  it.each([
    [0, '0 s'],
    [20, '< 0.1 s'],
    [400, '0.4 s'],
    [2_000, '2 s'],
    [2_500, '2.5 s'],
    [9_960, '10 s'],
    [45_000, '45 s'],
    [59_600, '1 min'],
    [120_000, '2 min'],
    [150_000, '2 min 30 s'],
    [599_000, '9 min 59 s'],
    [12 * 60_000 + 20_000, '12 min'],
    [59 * 60_000 + 40_000, '1 h'],
    [H + 5 * 60_000, '1 h 5 min'],
    [0.02 * H, '1 min 12 s'],
    [23 * H + 59.6 * 60_000, '1 d'],
    [3 * 24 * H + 4 * H, '3 d 4 h'],
    [120 * 24 * H, '120 d'],
    [-90_000, '-1 min 30 s'],
    [Number.POSITIVE_INFINITY, 'forever'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('reads policy durations and hours the same way', () => {
    expect(formatDurationText('2m')).toBe('2 min');
    expect(formatDurationText('6h')).toBe('6 h');
    expect(formatDurationText('1.5d')).toBe('1 d 12 h');
    expect(formatDurationText('not a duration')).toBe('not a duration');
    expect(formatHours(5.1)).toBe('5 h 6 min');
  });

  it('writes instants on a 24-hour clock in UTC, the zone named, from epoch ms or ISO text', () => {
    const at = Date.UTC(2026, 11, 4, 17, 45, 9);
    expect(formatInstant(at)).toBe('2026-12-04 17:45:09 UTC');
    expect(formatInstant('2026-12-04T17:45:09.000Z')).toBe('2026-12-04 17:45:09 UTC');
    expect(formatInstant(null)).toBe('—');
  });

  it('writes money whole from 100 up and for whole amounts', () => {
    expect(formatMoney(155.4)).toBe('155');
    expect(formatMoney(-43.21)).toBe('-43.21');
    expect(formatMoney(0)).toBe('0');
    expect(formatMoney(12.5)).toBe('12.50');
    expect(formatMoney(-0.001)).toBe('0.00');
  });
});

describe('decision reasons: the kind is a field, never repeated', () => {
  it('composes a blocked reason with the guard first and the trigger after', () => {
    expect(composeDecisionReason('staleness …', null)).toBe('staleness …');
    expect(composeDecisionReason('staleness …', { guard: 'cooldown', detail: 'last retrain 40 s ago' })).toBe(
      'cooldown guard: last retrain 40 s ago; trigger: staleness …',
    );
  });

  it('cleans the doubled prefixes of stored reasons for display, and leaves clean ones alone', () => {
    expect(displayReason('retrain: retrain: staleness accumulated 155 > retrain 60 + risk 10')).toBe(
      'staleness accumulated 155 > retrain 60 + risk 10',
    );
    expect(displayReason('no action: wait: staleness now costs 3.20/h')).toBe('staleness now costs 3.20/h');
    expect(
      displayReason('blocked by cooldown: last retrain 0.0 h ago < cooldown 2m; trigger: retrain: step down'),
    ).toBe('cooldown guard: last retrain 0.0 h ago < cooldown 2m; trigger: step down');
    expect(displayReason('no action: wait for a clean training window: retrain: quality stepped down')).toBe(
      'waiting for a clean training window: quality stepped down',
    );
    expect(
      displayReason(
        'no action: wait for enough data after the change: retrain: staleness accumulated 155 > retrain 60 + risk 10; but only 150 labelled rows since the change',
      ),
    ).toBe(
      'waiting for enough data after the change: staleness accumulated 155 > retrain 60 + risk 10; but only 150 labelled rows since the change',
    );
    expect(displayReason('training failed: trainer exited 1')).toBe('trainer exited 1');
    const clean = 'accuracy 0.9470 (realised); 0 consecutive windows below 0.85, need 2';
    expect(displayReason(clean)).toBe(clean);
    expect(reasonHeadline(clean)).toBe('accuracy 0.9470 (realised)');
  });
});

const COST_AWARE = demoPolicy({
  trigger: { valuePerQualityUnit: 1, traffic: { kind: 'fixed', eventsPerHour: 300 }, horizon: '7d' },
  guards: { budget: { maxRetrains: 4, per: '7d' }, approval: { required: false, timeout: '1d' } },
  trainingWindow: { kind: 'fixed', duration: '6h' },
});

/** Hourly windows of the version in service since `start`, at the given qualities. */
function windowsOf(start: number, qualities: number[]): PolicyState['windows'] {
  return qualities.map((q, i) => ({
    start: start + i * H,
    end: start + (i + 1) * H,
    events: 300,
    quality: { metric: 'accuracy', value: q, source: 'realised' as const },
  }));
}

describe('decision texts of the policy (revision 2) and the kept revision 1', () => {
  const NOW = Date.UTC(2026, 11, 4, 12);
  const start = NOW - 12 * H;
  const base: PolicyState = {
    windows: windowsOf(
      start,
      Array.from({ length: 12 }, () => 0.9),
    ),
    versionTrainedAt: start,
    lastRetrainAt: start,
    freshQuality: 0.9,
  };

  it('a cooldown blocks in one duration form: no "0.0 h ago < cooldown 2m"', () => {
    const d = evaluatePolicy(
      COST_AWARE,
      { ...base, lastRetrainAt: NOW - 40_000, manualRequest: { by: 'alice', reason: 'test', force: false } },
      NOW,
    );
    expect(d.kind).toBe('blocked');
    expect(d.reason).toBe(
      `cooldown guard: last retrain 40 s ago, within the 2 min cooldown (over at 2026-12-04 12:01:20 UTC); trigger: ${d.trigger.reason}`,
    );
  });

  it('a no-action reason never starts with its kind or the economics verdict', () => {
    const d = evaluatePolicy(COST_AWARE, base, NOW);
    expect(d.kind).toBe('no-action');
    expect(d.reason).not.toMatch(/^(no action|no-action|wait|retrain):/);
    expect(d.reason).toBe(d.trigger.reason);
  });

  it('revision 1 (replayed histories) keeps the texts as recorded', () => {
    const d = evaluatePolicy(COST_AWARE, { ...base, textRevision: 1 }, NOW);
    expect(d.reason).toMatch(/^no action: (wait|retrain): /);
    const blocked = evaluatePolicy(
      COST_AWARE,
      {
        ...base,
        textRevision: 1,
        lastRetrainAt: NOW - 40_000,
        manualRequest: { by: 'alice', reason: 'test', force: false },
      },
      NOW,
    );
    expect(blocked.reason).toMatch(/^blocked by cooldown: last retrain 0\.0 h ago < cooldown 2m; trigger: /);
  });
});

describe('the economics statement agrees with its verdict', () => {
  /** Economics over many decay fits, traffic levels and hurdles, forecast and cumulative. */
  function outcomes(): RetrainEconomics[] {
    const generator = new Random(11);
    const random = (): number => generator.next();
    const list: RetrainEconomics[] = [];
    for (let i = 0; i < 200; i++) {
      const h = 5 + random() * 80;
      const fit = fitDecay(
        Array.from({ length: 8 + Math.floor(random() * 20) }, (_, k) => ({
          ageHours: k * 2,
          quality: 0.7 + 0.2 * 2 ** (-(k * 2) / h) + (random() - 0.5) * 0.02,
          weight: 300,
        })),
      );
      const accumulatedEstimate = (random() - 0.3) * 400;
      const sd = random() * 40;
      list.push(
        evaluateRetrainEconomics({
          fit: random() < 0.3 ? fitDecay([]) : fit,
          horizonHours: 168,
          eventsPerHour: 50 + random() * 2000,
          valuePerQualityUnit: 0.2 + random(),
          retrainCost: 20 + random() * 200,
          deploymentRisk: { probability: 0.1, cost: random() * 200 },
          accumulatedStalenessCost: random() < 0.2 ? null : accumulatedEstimate - sd,
          accumulation: { estimate: accumulatedEstimate, sd, lowerBound: accumulatedEstimate - sd, yardstick: 0.9 },
          fitBlindSpot: random() < 0.3 ? 'the version started at 0.840, below the attainable 0.900' : null,
        }),
      );
    }
    return list;
  }

  it('never says wait while the deciding figure exceeds the hurdle, nor retrain below it', () => {
    const all = outcomes();
    expect(new Set(all.map((e) => e.rule))).toEqual(new Set(['forecast', 'cumulative', 'none']));
    for (const e of all) {
      const s = describeEconomics(e);
      expect(s.text).toBe(e.reason);
      expect(s.text).not.toMatch(/^(retrain|wait|no action)\b/);
      if (s.compared === null) {
        expect(s.verdict).toBe('no-evidence');
        continue;
      }
      const exceeds = s.compared.value > s.hurdle.total;
      expect(s.verdict).toBe(exceeds ? 'retrain' : 'wait');
      expect(s.headline).toContain(exceeds ? ' > retrain ' : ' ≤ retrain ');
    }
  });

  it('explains a negative accumulation where it is shown', () => {
    const e = evaluateRetrainEconomics({
      fit: fitDecay([]),
      horizonHours: 168,
      eventsPerHour: 300,
      valuePerQualityUnit: 1,
      retrainCost: 60,
      deploymentRisk: { probability: 0.1, cost: 100 },
      accumulatedStalenessCost: -43,
      accumulation: { estimate: 12, sd: 55, lowerBound: -43, yardstick: 0.912 },
    });
    expect(e.reason).toContain(
      'staleness accumulated since the last retrain -43 ≤ retrain 60 + risk 10; cumulative rule, with no decay forecast: too few observations',
    );
    expect(e.reason).toContain(
      'the sum is signed (windows better than the attainable 0.912 offset worse ones) and taken one standard error low (estimate 12 less 55), so sampling noise does not add up to a retrain; negative: its standard error is larger than the estimate, which is not evidence of staleness',
    );
    const better = evaluateRetrainEconomics({
      fit: fitDecay([]),
      horizonHours: 168,
      eventsPerHour: 300,
      valuePerQualityUnit: 1,
      retrainCost: 60,
      deploymentRisk: { probability: 0.1, cost: 100 },
      accumulatedStalenessCost: -80,
      accumulation: { estimate: -30, sd: 50, lowerBound: -80, yardstick: 0.912 },
    });
    expect(better.reason).toMatch(/negative: the version has done better than that so far$/);
  });

  it('states a forecast wait beside an accumulation above the hurdle, saying why the accumulation does not decide', () => {
    const fit = fitDecay(
      Array.from({ length: 24 }, (_, k) => ({ ageHours: k, quality: 0.9 - 0.001 * k, weight: 2000 })),
    );
    const e = evaluateRetrainEconomics({
      fit,
      horizonHours: 168,
      eventsPerHour: 10,
      valuePerQualityUnit: 1,
      retrainCost: 60,
      deploymentRisk: { probability: 0.1, cost: 100 },
      accumulatedStalenessCost: 155,
    });
    expect(e.rule).toBe('forecast');
    expect(e.shouldRetrain).toBe(false);
    const s = describeEconomics(e);
    expect(s.label).toBe('wait');
    expect(s.headline).toMatch(/≤ retrain 60 \+ risk 10$/);
    expect(s.text).toContain(
      'the staleness accumulated since the last retrain (155) is above the hurdle but does not decide',
    );
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { QUALITY_METRICS, qualityOfMetric } from '../../detectors/quality/quality-metric.ts';
import { formatDuration, formatEstimateHours, formatInstant } from '../../detectors/texts/format.ts';
import { Random } from '../../detectors/random.ts';

/**
 * The dashboard is plain browser modules that load no project code, so it writes durations,
 * instants and estimates with its own copy of detectors/texts/format.ts. This holds the copy equal
 * to the original, and checks the axis-label helpers the charts use.
 */
interface DashboardUtil {
  duration(ms: number): string;
  instant(ms: number): string;
  estimateHours(hours: number, interval?: { lower: number; upper: number | null; level?: number } | null): string;
  relative(ms: number, now: number): string;
  timeTickLabels(ticks: number[]): string[];
  percentTickLabels(ticks: number[]): string[];
  qualityLabel(metric: string | undefined): string;
  barText(value: number, isAccuracy: boolean): string;
  niceTicks(lo: number, hi: number, target?: number): number[];
  niceTickLabels(ticks: number[], unit?: string): string[];
}

let util: DashboardUtil;
beforeAll(async () => {
  // A path the type checker does not resolve: the module is browser JavaScript without types.
  const path = '../../dashboards/web/util.js';
  util = (await import(path)) as DashboardUtil;
});

describe('the dashboard writes the one format of detectors/texts', () => {
  it('durations, instants and estimates equal the TypeScript originals over a spread of values', () => {
    const random = new Random(5);
    const values = [0, 20, 400, 2_500, 9_960, 45_000, 59_600, 150_000, 599_000, 3_580_000, 86_376_000, -90_000];
    for (let i = 0; i < 2000; i++) values.push(Math.round(10 ** random.uniform(1, 10)));
    for (const ms of values) {
      expect(util.duration(ms)).toBe(formatDuration(ms));
      expect(util.instant(1_764_000_000_000 + ms)).toBe(formatInstant(1_764_000_000_000 + ms));
      const hours = Math.abs(ms) / 3_600_000;
      const interval = { lower: hours * 0.7, upper: ms % 3 === 0 ? null : hours * 1.6, level: 0.9 };
      expect(util.estimateHours(hours, interval)).toBe(formatEstimateHours(hours, interval));
    }
  });

  it('a promotion bar reads in percentage points to one decimal, a loss margin to two significant digits', () => {
    expect(util.barText(-1, true)).toBe('-1.0');
    expect(util.barText(-0.01, false)).toBe('-0.01');
    expect(util.barText(0.0123, false)).toBe('0.012');
    expect(util.barText(0, false)).toBe('0');
  });

  it("an interval plot ticks round values across its span, each labelled with the step's decimals", () => {
    // The shadow plot's log-loss axis: −0.064 to 0.30 read "-0.0, 0.0, 0.1, 0.2, 0.3" at fifths of the span.
    const ticks = util.niceTicks(-0.064, 0.3);
    expect(ticks).toEqual([0, 0.1, 0.2, 0.3]);
    expect(util.niceTickLabels(ticks)).toEqual(['0.0', '0.1', '0.2', '0.3']);
    expect(util.niceTickLabels(util.niceTicks(68.1, 97.1), '%')).toEqual(['70%', '75%', '80%', '85%', '90%', '95%']);
    expect(util.niceTicks(-0.012, 0.004)).toEqual([-0.01, -0.005, 0]);
    for (let i = 0; i < 200; i++) {
      const lo = Math.sin(i) * 10 ** ((i % 7) - 3);
      const hi = lo + Math.abs(Math.cos(i)) * 10 ** ((i % 5) - 2) + 1e-9;
      const t = util.niceTicks(lo, hi);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(7);
      expect(t.every((v) => v >= lo - 1e-9 && v <= hi + 1e-9)).toBe(true);
      expect(new Set(util.niceTickLabels(t)).size).toBe(t.length);
    }
  });

  it('a quality axis names the metric when quality is the metric, and "quality from" it when quality is derived from it', () => {
    for (const metric of QUALITY_METRICS) {
      const identity = [-0.5, 0.05, 0.3, 0.9].every((v) => qualityOfMetric(metric, v, 1) === v);
      expect(util.qualityLabel(metric)).toBe(identity ? metric : `quality from ${metric}`);
    }
    expect(util.qualityLabel(undefined)).toBe('quality');
  });

  it('relative times read "… ago" / "in …" in the same duration form', () => {
    const now = 1_764_000_000_000;
    expect(util.relative(now - 140_000, now)).toBe('2 min 20 s ago');
    expect(util.relative(now + 3_900_000, now)).toBe('in 1 h 5 min');
    expect(util.relative(now, now)).toBe('now');
  });
});

describe('axis labels', () => {
  it('time ticks: 24-hour UTC, seconds only when ticks are under a minute apart, the date where the day changes', () => {
    const t = Date.UTC(2026, 11, 4, 22, 59, 30);
    expect(util.timeTickLabels([t, t + 15_000, t + 30_000])).toEqual(['22:59:30\n2026-12-04', '22:59:45', '23:00:00']);
    const h = 3_600_000;
    expect(util.timeTickLabels([t - 30_000 - h, t + 30_000, t + 30_000 + h])).toEqual([
      '21:59\n2026-12-04',
      '23:00',
      '00:00\n2026-12-05',
    ]);
  });

  it('percent ticks carry the decimals their step needs, so neighbours never read the same', () => {
    expect(util.percentTickLabels([93.8, 94, 94.2, 94.4])).toEqual(['93.8%', '94.0%', '94.2%', '94.4%']);
    expect(util.percentTickLabels([92.5, 95, 97.5])).toEqual(['92.5%', '95.0%', '97.5%']);
    expect(util.percentTickLabels([80, 85, 90])).toEqual(['80%', '85%', '90%']);
    expect(util.percentTickLabels([94.05, 94.1, 94.15])).toEqual(['94.05%', '94.10%', '94.15%']);
  });
});

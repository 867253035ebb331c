import { describe, expect, it } from 'vitest';
import {
  planWindow,
  runHistoryBudget,
  staggerOffsetMs,
  windowStartAt,
  windowsDue,
} from '../../../detectors/monitor/schedule.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('staggered windows', () => {
  it('gives each model a fixed offset inside the cadence', () => {
    for (const cadence of [MINUTE, 5 * MINUTE, HOUR]) {
      for (const id of ['a', 'churn', 'fleet-0001', 'x'.repeat(200)]) {
        const offset = staggerOffsetMs(id, cadence);
        expect(Number.isInteger(offset)).toBe(true);
        expect(offset).toBeGreaterThanOrEqual(0);
        expect(offset).toBeLessThan(cadence);
        expect(staggerOffsetMs(id, cadence)).toBe(offset);
      }
    }
  });

  it("spreads a fleet's ticks over the cadence instead of one second", () => {
    const seconds = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const second = Math.floor(staggerOffsetMs(`fleet-${String(i).padStart(4, '0')}`, MINUTE) / 1000);
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
    }
    // 1000 monitors over 60 seconds: about 17 a second, every second used, none crowded.
    expect(seconds.size).toBe(60);
    expect(Math.max(...seconds.values())).toBeLessThan(40);
  });

  it('cuts windows of one cadence at the offset, the one holding now first', () => {
    const offset = 17_250;
    const now = Date.UTC(2026, 0, 1, 10, 30, 5);
    const start = windowStartAt(now, MINUTE, offset);
    expect(start).toBeLessThanOrEqual(now);
    expect(now - start).toBeLessThan(MINUTE);
    expect((start - offset) % MINUTE).toBe(0);
    expect(windowStartAt(now, MINUTE)).toBe(Date.UTC(2026, 0, 1, 10, 30, 0));
  });
});

describe('planning the window a late monitor evaluates', () => {
  const base = { nextWindowStart: 0, cadenceMs: MINUTE, settleMs: 5_000, maxCoalesced: 24 };

  it('evaluates the next window alone when one is due', () => {
    expect(windowsDue({ ...base, now: MINUTE + 5_000 })).toBe(1);
    expect(planWindow({ ...base, now: 2 * MINUTE + 4_999 })).toEqual({
      start: 0,
      end: MINUTE,
      windows: 1,
      skipped: null,
    });
  });

  it('coalesces every due window into one when it fell behind', () => {
    const plan = planWindow({ ...base, now: 5 * MINUTE + 5_000 });
    expect(plan).toEqual({ start: 0, end: 5 * MINUTE, windows: 5, skipped: null });
  });

  it('skips the windows older than the most it coalesces, and says which', () => {
    const plan = planWindow({ ...base, now: 100 * MINUTE + 6_000 });
    expect(plan).toEqual({
      start: 76 * MINUTE,
      end: 100 * MINUTE,
      windows: 24,
      skipped: { start: 0, end: 76 * MINUTE, windows: 76 },
    });
  });

  it('evaluates windows missed while paused one by one, then coalesces what is late after them', () => {
    const resumedAt = 10 * MINUTE;
    expect(planWindow({ ...base, now: 12 * MINUTE, catchUpUntil: resumedAt })).toEqual({
      start: 0,
      end: MINUTE,
      windows: 1,
      skipped: null,
    });
    const after = planWindow({ ...base, nextWindowStart: 9 * MINUTE, now: 12 * MINUTE, catchUpUntil: resumedAt });
    expect(after).toEqual({ start: 9 * MINUTE, end: 11 * MINUTE, windows: 2, skipped: null });
  });
});

describe("spreading the ends of a fleet's runs", () => {
  const runIds = Array.from(
    { length: 1000 },
    (_, i) => `0193a5c2-${String(i).padStart(4, '0')}-7000-8000-00000000abcd`,
  );

  it('gives each run a fixed budget between half and all of the maximum', () => {
    for (const runId of runIds) {
      const budget = runHistoryBudget(256 * 1024, runId);
      expect(budget).toBe(runHistoryBudget(256 * 1024, runId));
      expect(budget).toBeGreaterThan(128 * 1024);
      expect(budget).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('spreads the budgets of runs started together instead of ending them at one tick', () => {
    const budgets = runIds.map((runId) => runHistoryBudget(256 * 1024, runId));
    // Ten bands of the spread range: each holds roughly a tenth of the runs.
    const bands = Array.from({ length: 10 }, () => 0);
    for (const b of budgets) bands[Math.min(9, Math.floor(((256 * 1024 - b) / (128 * 1024)) * 10))]! += 1;
    for (const n of bands) expect(n).toBeGreaterThan(50);
    for (const n of bands) expect(n).toBeLessThan(150);
  });

  it('keeps the maximum when the spread is zero', () => {
    expect(runHistoryBudget(40_000, runIds[0]!, 0)).toBe(40_000);
  });
});

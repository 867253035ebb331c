import { describe, expect, it } from 'vitest';
import { changeWindows, matchDetections, summarizeMatches } from '../../bench/lib/detection-metrics.ts';

describe('bench detection metrics', () => {
  it('windows start at position − width/2 and stop at the horizon or the next window', () => {
    expect(changeWindows([{ position: 1000 }, { position: 1500, width: 400 }, { position: 5000 }], 1000)).toEqual([
      { start: 1000, end: 1300 },
      { start: 1300, end: 2500 },
      { start: 5000, end: 6000 },
    ]);
    expect(() => changeWindows([{ position: 10 }, { position: 5 }], 100)).toThrow(RangeError);
    expect(() => changeWindows([{ position: 10 }], 0)).toThrow(RangeError);
  });

  it('counts delays, extra detections, false alarms and misses', () => {
    // Changes at 1000 (abrupt), 3000 (gradual, width 400 → window from 2800), 6000 (abrupt); horizon 500.
    const changes = [{ position: 1000 }, { position: 3000, width: 400 }, { position: 6000 }];
    // 200: before any change → false alarm. 1040: detects change 1 (delay 40). 1100: extra.
    // 1500: just past the horizon (window is [1000, 1500)) → false alarm. 2900: detects the gradual
    // change before its centre (delay −100). 6000–6499: none → change 3 missed. 7000: false alarm.
    const m = matchDetections(changes, [7000, 1040, 200, 1100, 1500, 2900], 500, 10_000);
    expect(m).toEqual({
      changes: 3,
      detected: 2,
      missed: 1,
      delays: [40, -100],
      falseAlarms: 3,
      extraDetections: 1,
      length: 10_000,
    });
  });

  it('no detections: every change missed, no false alarms', () => {
    expect(matchDetections([{ position: 10 }], [], 5, 100)).toMatchObject({
      detected: 0,
      missed: 1,
      falseAlarms: 0,
      delays: [],
    });
  });

  it('pools seeds: mean and median delay over detected changes, false alarms per 10k events', () => {
    const a = matchDetections([{ position: 100 }], [110, 900], 50, 10_000); // delay 10, 1 FA
    const b = matchDetections([{ position: 100 }, { position: 500 }], [130, 560], 50, 10_000); // delay 30, 500 missed, 560 FA
    const c = matchDetections([{ position: 100 }], [], 50, 20_000); // missed
    const s = summarizeMatches([a, b, c]);
    expect(s).toEqual({
      changes: 4,
      detected: 2,
      missed: 2,
      meanDelay: 20,
      medianDelay: 20,
      falseAlarms: 2,
      falseAlarmsPer10k: 0.5,
      extraDetections: 0,
      events: 40_000,
    });
    expect(summarizeMatches([c]).meanDelay).toBeNull();
  });
});

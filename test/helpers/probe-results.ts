import type { ProbeResult } from '../../detectors/probes/types.ts';

const HOUR = 3_600_000;

/**
 * A finished explore probe of the served `file` version, started 2 h before `now` and read 1 h
 * before: by default it found no better model (0.71 against 0.71 on 300 events, ±0.02).
 */
export function probeResult(now: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    id: `file@${now - 2 * HOUR}`,
    version: 'file',
    startedAt: now - 2 * HOUR,
    completedAt: now - HOUR,
    versionAgeHours: 1000,
    trainingStart: now - 6 * HOUR,
    trainingEnd: now - 2 * HOUR,
    plan: { kind: 'explore', value: 100, cost: 7.5, worthwhileGap: 0.03, reason: 'r' },
    windows: 1,
    events: 300,
    champion: 0.71,
    challenger: 0.71,
    gap: 0,
    lower: -0.02,
    upper: 0.02,
    level: 0.95,
    verdict: 'no-better',
    ...over,
  };
}

import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../detectors/policy/duration.ts';
import { Random } from '../../../detectors/random.ts';
import { demoSchedule, demoTheta, demoWorld } from '../../../workers/demo.ts';

/**
 * The monitor cuts windows on its cadence grid. A move of the demo's concept that began late in a
 * window left the window a sliver of it: measured quality a little down — enough for the step
 * rule, not for what the demo shows (the end-to-end test saw a retrain on such a window at 0.899).
 */
describe('the demo world against the monitor windows', () => {
  for (const speed of [1, 2, 4]) {
    it(`starts every move on a window boundary, wherever the demo began (speed ${speed})`, () => {
      const schedule = demoSchedule(speed);
      const cadenceMs = parseDuration(schedule.cadence);
      const random = new Random(speed);
      for (let i = 0; i < 200; i++) {
        const epoch = Date.UTC(2026, 11, 4) + random.integer(0, 3_600_000);
        const world = demoWorld(epoch, schedule);
        const firstMove = epoch + world.holdMs;
        expect(firstMove % cadenceMs).toBe(0);
        expect(world.holdMs - schedule.world.holdMs).toBeGreaterThanOrEqual(0);
        expect(world.holdMs - schedule.world.holdMs).toBeLessThan(cadenceMs);
        // Every window before the move sees only the initial concept; the next begins with the move.
        expect(demoTheta(world, firstMove - 1)).toBe(world.thetaLow);
        expect(demoTheta(world, firstMove + cadenceMs / 2)).toBeGreaterThan(world.thetaLow);
        // Later moves (up after a ramp and plateau, back down after another) are on the grid too.
        expect((world.rampMs + world.plateauMs) % cadenceMs).toBe(0);
        const back = firstMove + world.rampMs + world.plateauMs;
        expect(demoTheta(world, back - 1)).toBe(world.thetaHigh);
        expect(demoTheta(world, back + 1)).toBeLessThan(world.thetaHigh);
      }
    });
  }
});

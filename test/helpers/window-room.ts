import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';

const MINUTE = 60_000;

/**
 * The test server's time, first skipped forward (whole minutes) until every model's current window
 * has at least `roomMs` left. A test computes its models' first windows from this time and writes
 * their events before it starts the monitors; the test server's clock runs in real time meanwhile
 * (ingest, bundling the workflows, a loaded machine), and a monitor started after its window ended
 * would begin a window later than the test's data (seen in CI on a loaded machine: the regression
 * monitors of monitor-beyond-binary and monitor-kind-estimation began at their second window). Room
 * longer than the test's own set-up time-out makes that miss impossible rather than unlikely.
 * @param roomMs time each model's window must still have @default a quarter of the cadence
 */
export async function timeWithRoomInWindows(
  env: TestWorkflowEnvironment,
  modelIds: readonly string[],
  cadenceMs: number,
  roomMs = cadenceMs / 4,
): Promise<number> {
  const now = await env.currentTimeMs();
  const roomy = (t: number) =>
    modelIds.every((id) => {
      const offset = staggerOffsetMs(id, cadenceMs);
      return windowStartAt(t, cadenceMs, offset) + cadenceMs - t >= roomMs;
    });
  for (let skip = 0; skip < cadenceMs; skip += MINUTE) {
    if (!roomy(now + skip)) continue;
    if (skip === 0) return now;
    await env.sleep(skip);
    return env.currentTimeMs();
  }
  throw new Error(
    `no time within one cadence leaves ${roomMs} ms in each of ${modelIds.length} models' windows: ask for less room`,
  );
}

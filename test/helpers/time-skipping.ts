import type { TestWorkflowEnvironment } from '@temporalio/testing';

/**
 * Skip `totalMs` of test-server time in calls of at most `stepMs` each.
 *
 * `env.sleep` is one gRPC call that stays open while the server skips time and every activity
 * of the skipped span runs. On a loaded machine a long span keeps it open for minutes, the
 * client's keepalive pings count as abuse ("rejected by server because of excess pings"), the
 * call loses its connection and skipped time stops: the test then times out. Short calls never
 * stay open long enough. The steps add up to the same simulated time, so what the workflow sees
 * is unchanged.
 */
export async function sleepInSteps(env: TestWorkflowEnvironment, totalMs: number, stepMs: number): Promise<void> {
  if (!(stepMs > 0)) throw new Error(`sleepInSteps: stepMs must be positive, got ${stepMs}`);
  for (let remaining = totalMs; remaining > 0; remaining -= stepMs) await env.sleep(Math.min(stepMs, remaining));
}

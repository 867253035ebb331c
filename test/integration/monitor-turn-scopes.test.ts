/**
 * What a long-running workflow keeps of its finished turns (workflows/monitor/turn-scopes.ts), on
 * the time-skipping test server. The worker runs in debug mode, so the workflows' context is in
 * this thread's heap and a forced collection weighs what is still reachable.
 *
 * The weight is the growth from turn HOLD_AT to turn TURNS of one still-running workflow: the
 * workflow's context and the worker's own set-up are in both weighings. Weighing from before the
 * workflow started counted them too (~1 MB), which once put a run that kept nothing over the bound.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installed } from '../../platform/paths.ts';
import type { TurnActivities } from '../fixtures/turn-scopes/workflows.ts';
import { uniqueName } from '../helpers/stack.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOLD_AT = 50;
const TURNS = 300;
const BYTES = 32_000;
const WEIGHED_TURNS = TURNS - HOLD_AT;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterCollection(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('turn scopes: a finished turn is not kept by the run', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  const activities: TurnActivities = { weigh: async ({ text }) => text.length };

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: installed.temporalTestServer } },
    });
    bundle = await bundleWorkflowCode({
      workflowsPath: path.join(here, '../fixtures/turn-scopes/workflows.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
  }, 180_000);

  afterAll(async () => {
    await env?.teardown();
  });

  const workerOn = (taskQueue: string, options: { debugMode?: boolean } = {}) =>
    Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities, ...options });

  /** Heap a still-running workflow gained from turn `HOLD_AT` to turn `TURNS`. */
  async function keptBy(workflowType: 'TurnsAtRoot' | 'TurnsInScopes', extraArgs: unknown[] = []): Promise<number> {
    const taskQueue = uniqueName('turns');
    // Debug mode: the workflows run in this thread, so its heap is theirs.
    const worker = await workerOn(taskQueue, { debugMode: true });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(workflowType, {
        taskQueue,
        workflowId: uniqueName(workflowType),
        args: [TURNS, BYTES, HOLD_AT, ...extraArgs],
      });
      const reached = async (turns: number) => {
        while ((await handle.query<number>('turnsDone')) < turns) await new Promise((r) => setTimeout(r, 200));
      };
      await reached(HOLD_AT);
      const atHold = heapAfterCollection();
      await handle.signal('resume');
      await reached(TURNS);
      const kept = heapAfterCollection() - atHold;
      await handle.signal('release');
      expect(await handle.result()).toBe(TURNS);
      return kept;
    });
  }

  it('keeps each turn at the root scope (the SDK behaviour TurnScopes exists for)', async () => {
    const kept = await keptBy('TurnsAtRoot');
    console.log(JSON.stringify({ test: 'turn-scopes', workflow: 'TurnsAtRoot', keptBytes: kept }));
    // Every turn's activity argument stays reachable: ≥ 1 byte a character (Latin-1 or UTF-16).
    expect(kept).toBeGreaterThan(0.8 * WEIGHED_TURNS * BYTES);
  }, 240_000);

  it('keeps no turn when each runs in a released scope', async () => {
    const kept = await keptBy('TurnsInScopes', [16]);
    console.log(JSON.stringify({ test: 'turn-scopes', workflow: 'TurnsInScopes', keptBytes: kept }));
    // A few turns' worth at most (the current epoch's released turns keep only their scope, not their arguments).
    expect(kept).toBeLessThan(0.1 * WEIGHED_TURNS * BYTES);
  }, 240_000);

  it('leaves a child started through outlivingTurn running, and runs the activities of its callback', async () => {
    const taskQueue = uniqueName('turns');
    const worker = await workerOn(taskQueue);
    const result = await worker.runUntil(
      env.client.workflow.execute('ChildOutlivesTurn', { taskQueue, workflowId: uniqueName('child-outlives') }),
    );
    // Cancelled with its turn, the child would have failed; an activity in a cancelled scope would have thrown.
    expect(result).toBe('child done:5');
    const history = await env.client.workflow.getHandle('slow-child-of-turn').fetchHistory();
    const kinds = (history.events ?? []).map((e) => String(e.eventType));
    expect(kinds.some((k) => /CANCEL/i.test(k))).toBe(false);
  }, 240_000);
});

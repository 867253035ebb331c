import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../platform/paths.ts';

const preload = path.join(projectRoot, 'platform/temporal-stack-traces-off.cjs');
/** Loading the SDK's workflow module in a fresh process takes seconds on a busy 2-core machine. */
const PROCESS_TIMEOUT_MS = 150_000;

/**
 * A fresh process (with or without the preload) whose worker thread installs the Temporal SDK's
 * own workflow globals, as the SDK's workflow thread does: the real vm-shared.js, so an SDK
 * upgrade that moves or renames it fails here rather than silently keeping stack traces on.
 */
const probe = `
const { Worker } = require('node:worker_threads');
const v8 = require('node:v8');
const thread = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const { globalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared.js');
  globalHandlers.install();
  parentPort.postMessage(globalHandlers.promiseHookInstalled);
\`, { eval: true });
thread.once('message', (installed) => {
  // Other callers of createHook are untouched.
  const stop = v8.promiseHooks.createHook({ init() {} });
  stop();
  console.log(JSON.stringify({
    sdkHookInstalled: installed,
    otherHooksWork: typeof stop === 'function',
    marked: globalThis[Symbol.for('halflife.workflowStackTracesOff')] === true,
  }));
  thread.terminate();
});
`;

/** `sourceMaps`: as under tsx, which the daemon runs with — stack traces then name the SDK's .ts sources. */
function run(withPreload: boolean, sourceMaps = false) {
  const flags = [...(withPreload ? ['--require', preload] : []), ...(sourceMaps ? ['--enable-source-maps'] : [])];
  const result = spawnSync(process.execPath, [...flags, '-e', probe], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: PROCESS_TIMEOUT_MS - 10_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return { ...JSON.parse(result.stdout.trim()), stderr: result.stderr };
}

describe('platform/temporal-stack-traces-off.cjs', () => {
  it.each([
    ['without source maps', false],
    ['with source maps, as under tsx', true],
  ])(
    'keeps the SDK from installing its stack-trace promise hook in a worker thread, and says nothing on stderr (%s)',
    (_, sourceMaps) => {
      const off = run(true, sourceMaps);
      expect(off).toMatchObject({ sdkHookInstalled: false, otherHooksWork: true, marked: true });
      // The SDK's console notice is the worker's log line to make, structured.
      expect(off.stderr).toBe('');
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    'changes nothing without the preload: the SDK installs its hook',
    () => {
      expect(run(false)).toMatchObject({ sdkHookInstalled: true, otherHooksWork: true, marked: false });
    },
    PROCESS_TIMEOUT_MS,
  );
});

/**
 * The workflow code as the Temporal worker loads it, bundled by webpack. Bundling takes a few
 * seconds and, in the process that does it, about 100 MB that V8 and the allocator keep long
 * after (measured: anonymous RSS +115 MB, ARCHITECTURE.md "Memory"); so it runs in a child
 * process and only the bundle (code and source map) comes back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const bundlerMain = fileURLToPath(new URL('./workflow-bundle-main.ts', import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundle the workflow code once per process, in a child process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleInChild().catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

async function bundleInChild(): Promise<WorkflowBundleWithSourceMap> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-workflow-bundle-'));
  const out = path.join(dir, 'bundle.json');
  try {
    // The child runs TypeScript through the same loader as this process, found from here.
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), bundlerMain, out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The bundler's warnings and errors are worth seeing as they come.
      process.stderr.write(chunk);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0)
      throw new Error(
        `bundling the workflow code failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    return JSON.parse(readFileSync(out, 'utf8')) as WorkflowBundleWithSourceMap;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => process.stderr.write(`workflow bundler: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundler: ${message}\n`),
};

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ONNX_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../platform/onnx');

/** Run an ES module in a fresh node whose environment has no ORT_DISABLE_TELEMETRY unless `preset`. */
function runNode(source: string, preset?: string): string {
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  if (preset !== undefined) env.ORT_DISABLE_TELEMETRY = preset;
  return execFileSync(process.execPath, ['--input-type=module', '-e', source], { env, encoding: 'utf8' }).trim();
}

describe("onnxruntime-node's telemetry", () => {
  it('is off in a process that loads the library through halflife: no telemetry log of the process', () => {
    // session.mjs is the one module that loads onnxruntime-node; a session is then created (on bytes
    // that are no model: the library initialises its environment, telemetry included, either way).
    const out = runNode(`
      const { pathToFileURL } = await import('node:url');
      await import(pathToFileURL(${JSON.stringify(path.join(ONNX_DIR, 'session.mjs'))}).href);
      const ort = await import('onnxruntime-node');
      try { await ort.InferenceSession.create(new Uint8Array([1, 2, 3])); } catch {}
      console.log(JSON.stringify({ pid: process.pid, optOut: process.env.ORT_DISABLE_TELEMETRY }));
    `);
    const { pid, optOut } = JSON.parse(out.split('\n').at(-1)!) as { pid: number; optOut: string };
    // Without the opt-out the library writes mat-debug-<pid>.log into the temp dir when it initialises.
    for (const dir of new Set([os.tmpdir(), '/tmp']))
      expect(existsSync(path.join(dir, `mat-debug-${pid}.log`))).toBe(false);
    expect(optOut).toBe('1');
  });

  it('leaves an ORT_DISABLE_TELEMETRY already set as it is', () => {
    const out = runNode(
      `const { pathToFileURL } = await import('node:url');
       await import(pathToFileURL(${JSON.stringify(path.join(ONNX_DIR, 'telemetry-off.mjs'))}).href);
       console.log(process.env.ORT_DISABLE_TELEMETRY);`,
      '0',
    );
    expect(out).toBe('0');
  });
});

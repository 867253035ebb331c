/**
 * Benchmark dispatcher: `npm run bench -- <name> [options]` runs bench/<name>.ts's `main(args)`.
 * Each benchmark prints its own usage; results go to BENCHMARKS.md by hand, with machine, date and command.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { removeInsertBodiesOf } from '../platform/clickhouse/binary-insert.ts';

/**
 * A benchmark written as a standalone script (it parses its own argv and runs on import), with Node's `flags`.
 * SIGINT and SIGTERM sent to this process alone (`kill <pid>`, a supervisor) are passed on, so the
 * benchmark ends its run and stops what it started (a terminal's Ctrl-C reaches both anyway).
 */
const script =
  (file: string, flags: readonly string[] = []) =>
  async () => ({
    main: async (argv: readonly string[]) => {
      const child = spawn(
        process.execPath,
        [...flags, '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...argv],
        { stdio: 'inherit' },
      );
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, forward);
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      // One killed mid-insert (SIGKILL, the OOM killer) leaves the insert's body (in /dev/shm: memory) behind.
      if (signal !== null && child.pid !== undefined) removeInsertBodiesOf(child.pid);
      process.exitCode = code ?? (signal ? 128 + os.constants.signals[signal] : 1);
    },
  });

const BENCHMARKS: Record<string, () => Promise<{ main: (argv: readonly string[]) => Promise<void> }>> = {
  ingest: script('./ingest.ts'),
  'post-latency': script('./post-latency.ts'),
  'insert-formats': script('./insert-formats.ts'),
  alerts: () => import('./alerts.ts'),
  estimation: () => import('./estimation.ts'),
  fleet: script('./fleet.ts'),
  'workflow-cache': script('./workflow-cache.ts'),
  'workflow-replay': () => import('./workflow-replay.ts'),
  // Node 20's WebSocket client (the inspector's protocol) is behind a flag.
  'workflow-heap': script('./workflow-heap.ts', ['--experimental-websocket', '--no-warnings=ExperimentalWarning']),
  decisions: () => import('./decisions.ts'),
  detection: () => import('./detection.ts'),
  drift: () => import('./drift.ts'),
  segments: () => import('./segments.ts'),
  'segment-stuck-values': () => import('./segment-stuck-values.ts'),
  'window-reads': () => import('./window-reads.ts'),
  'window-fleet-shape': () => import('./window-fleet-shape.ts'),
  'decision-records': script('./decision-records.ts'),
  'late-label-span': () => import('./late-label-span.ts'),
  'label-granularity': () => import('./label-granularity.ts'),
  'event-granularity': () => import('./event-granularity.ts'),
  multivariate: () => import('./multivariate.ts'),
  'real-data': () => import('./real-data.ts'),
  scorer: () => import('./scorer.ts'),
  'outcome-estimate': () => import('./outcome-estimate.ts'),
};

const [name, ...rest] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const load = name === undefined ? undefined : BENCHMARKS[name];
if (load === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).main(rest);

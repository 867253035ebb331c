/**
 * What the Temporal SDK's workflow stack traces cost: the CPU of replaying a recorded monitor
 * history, with and without them (`temporal.workflowStackTraces`).
 *
 *   npm run bench -- workflow-replay [--replays 15] [--pairs 2] [--history FILE] [--json]
 *
 * A replay runs the workflow code on the workflow thread exactly as a tick does — every
 * activation, promise and state change of the recorded run — without a server, so its CPU is the
 * workflow thread's work (plus the SDK core's). Stack traces are switched off the way
 * workers/daemon.sh does it, by preloading platform/temporal-stack-traces-off.cjs, which only
 * a fresh process can take: each measurement is a child process that bundles the workflow code,
 * replays the history once to warm up, then --replays times under its CPU timer (the bundle and
 * the warm-up outside it on both sides). Children alternate off/on, --pairs pairs, so a machine
 * whose speed drifts shows in both.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { projectRoot } from '../platform/paths.ts';
import { machine } from './lib/cli.ts';

const USAGE = `Usage: npm run bench -- workflow-replay [options]   (or: npx tsx bench/workflow-replay.ts [options])

CPU of replaying a recorded monitor history with the Temporal SDK's workflow stack traces on and
off (platform/temporal-stack-traces-off.cjs preloaded), in alternating child processes.

  --replays N     replays timed in each child, after one warm-up (default 15)
  --pairs N       off/on pairs of children (default 2)
  --history FILE  the recorded history (default test/replay/histories/model-monitor-markers.json)
  --json          print the JSON report on stdout
  -h, --help      this text
`;

interface Measurement {
  stackTraces: 'on' | 'off';
  replays: number;
  historyEvents: number;
  cpuMsPerReplay: number;
  wallMsPerReplay: number;
}

const PRELOAD = path.join(projectRoot, 'platform/temporal-stack-traces-off.cjs');
const CHILD = fileURLToPath(new URL('./lib/replay-cpu-child.ts', import.meta.url));

function measure(stackTraces: 'on' | 'off', replays: number, history: string): Measurement {
  const result = spawnSync(
    process.execPath,
    [...(stackTraces === 'off' ? ['--require', PRELOAD] : []), '--import', 'tsx', CHILD, String(replays), history],
    { cwd: projectRoot, encoding: 'utf8', maxBuffer: 16 << 20 },
  );
  if (result.status !== 0) throw new Error(`replay child (stack traces ${stackTraces}) failed:\n${result.stderr}`);
  const last = result.stdout.trim().split('\n').at(-1)!;
  return { stackTraces, ...(JSON.parse(last) as Omit<Measurement, 'stackTraces'>) };
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      replays: { type: 'string', default: '15' },
      pairs: { type: 'string', default: '2' },
      history: { type: 'string', default: 'test/replay/histories/model-monitor-markers.json' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const replays = Number(values.replays);
  const pairs = Number(values.pairs);
  if (!Number.isInteger(replays) || replays < 1)
    throw new Error(`--replays must be a positive integer, not ${values.replays}`);
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a positive integer, not ${values.pairs}`);
  const history = path.resolve(values.history);
  const started = machine();
  const load = (await import('node:os')).loadavg;
  const loadBefore = load();
  const runs: Measurement[] = [];
  for (let p = 0; p < pairs; p++)
    for (const side of ['off', 'on'] as const) {
      const m = measure(side, replays, history);
      runs.push(m);
      process.stderr.write(
        `  pair ${p + 1}, stack traces ${side}: ${m.cpuMsPerReplay.toFixed(0)} CPU ms a replay of ${m.historyEvents} events\n`,
      );
    }
  const mean = (side: 'on' | 'off') => {
    const xs = runs.filter((r) => r.stackTraces === side).map((r) => r.cpuMsPerReplay);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const perPair = Array.from(
    { length: pairs },
    (_, p) => runs[2 * p]!.cpuMsPerReplay / runs[2 * p + 1]!.cpuMsPerReplay,
  );
  const report = {
    machine: { ...started, loadBefore, loadAfter: load() },
    command: `npm run bench -- workflow-replay ${argv.join(' ')}`.trim(),
    history: path.relative(projectRoot, history),
    runs,
    cpuMsPerReplay: { on: mean('on'), off: mean('off') },
    offOverOnPerPair: perPair,
  };
  process.stderr.write(
    `stack traces on ${report.cpuMsPerReplay.on.toFixed(0)} / off ${report.cpuMsPerReplay.off.toFixed(0)} CPU ms a replay; off ÷ on per pair: ${perPair.map((r) => r.toFixed(3)).join(', ')}\n`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });

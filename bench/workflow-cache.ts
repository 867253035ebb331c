/**
 * What a fleet's monitors weigh in the Temporal worker's workflow cache, and what a monitor that
 * is not cached costs when it ticks (it replays its history).
 *
 *   npm run bench -- workflow-cache [--models 50] [--cache 1000] [--ticks 30] [--json]
 *
 * One process as the daemon has it (the embedded engine, migrated; the daemon's Temporal worker
 * from createTemporalWorker with `temporal.maxCachedWorkflows` = --cache) on Temporal's
 * time-skipping test server, and --models ModelMonitor workflows at a 1-hour cadence on empty
 * windows (no traffic: what is measured is the workflows, not the statistics). Simulated time
 * runs --ticks cadences in steps of one; after each step: RSS (anonymous and file pages), the
 * main thread's V8 heap and external memory, the engine's tracked memory, the workflows cached,
 * the windows decided so far and the CPU the step took. Reported: memory before the monitors
 * started and at the end, anonymous RSS growth per cached workflow, and CPU per window decided, which
 * grows with the history each decision replays when the cache is smaller than the fleet.
 * Time-skipping keeps the measurement free of wall-clock deadlines on a loaded machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { engineMemory } from '../platform/clickhouse/engine-memory-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { installed } from '../platform/paths.ts';
import { parsePolicy } from '../platform/policy-file.ts';
import { registerSearchAttributes } from '../platform/temporal.ts';
import { processMemory } from '../workers/process-memory.ts';
import { installTemporalRuntime } from '../workers/temporal-runtime.ts';
import { createTemporalWorker } from '../workers/temporal-worker.ts';
import { halflifeDataConverter } from '../platform/temporal-payload-codec.ts';
import { monitorWorkflowId } from '../workflows/messages.ts';
import type { ModelMonitorInput } from '../workflows/monitor/input.ts';
import { machine } from './lib/cli.ts';

const USAGE = `Usage: npm run bench -- workflow-cache [options]   (or: npx tsx bench/workflow-cache.ts [options])

The daemon's Temporal worker with N ModelMonitor workflows on empty windows, on the time-skipping
test server with its own embedded engine: memory per cached workflow and CPU per tick, with the
workflow cache at --cache.

  --models N      monitors (default 50)
  --cache N       temporal.maxCachedWorkflows (default: the setting's default)
  --ticks T       cadences of simulated time (default 30)
  --json          print the JSON report on stdout
  -h, --help      this text

Progress on stderr. Compare runs at the same --models and --ticks, e.g. --cache 1000 and --cache 10.
`;

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '50' },
    cache: { type: 'string' },
    ticks: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const N = Number(args.models);
const TICKS = Number(args.ticks);
if (!(N > 0) || !(TICKS > 0)) {
  process.stderr.write(`--models and --ticks: positive numbers\n${USAGE}`);
  process.exit(2);
}
const HOUR = 3_600_000;
const log = (line: string) => process.stderr.write(`${line}\n`);
const MB = 2 ** 20;

interface Sample {
  tick: number;
  rssMb: number;
  rssAnonymousMb: number | null;
  rssFileMb: number | null;
  heapUsedMb: number;
  externalMb: number;
  engineTrackedMb: number | null;
  cachedWorkflows: number;
  windowsDecided: number;
  /** CPU of this process (main and workflow threads) since the previous sample, ms. */
  cpuMs: number;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-workflow-cache-'));
  const load = os.loadavg();
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel: 'warn',
      temporal: { address: 'time-skipping', ...(args.cache ? { maxCachedWorkflows: Number(args.cache) } : {}) },
      kafka: { brokers: '127.0.0.1:1' },
    },
  });
  log(`workflow-cache: ${N} monitors, ${TICKS} ticks, cache ${config.temporal.maxCachedWorkflows}; data in ${dataDir}`);
  // Before the test environment would install the SDK's own runtime, which logs on stdout (the JSON's).
  installTemporalRuntime(createLogger('temporal-sdk', 'warn'), 'WARN');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: installed.temporalTestServer } },
    client: { dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }) },
  });
  const ch = await openClickHouse(config);
  let stopWorker = async () => {};
  try {
    await registerSearchAttributes(env.connection, 'default');
    await applyMigrations(ch.client);
    const { worker, close, windowBatcher } = await createTemporalWorker({
      config,
      clickhouse: ch.client,
      log: createLogger('workflow-cache', 'warn'),
      connection: env.nativeConnection,
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await close();
    };
    let cpu = process.cpuUsage();
    const sample = async (tick: number): Promise<Sample> => {
      const m = processMemory();
      const engine = await engineMemory(ch.client).catch(() => null);
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      return {
        tick,
        rssMb: Math.round(m.rss / MB),
        rssAnonymousMb: m.rssAnonymous === null ? null : Math.round(m.rssAnonymous / MB),
        rssFileMb: m.rssFile === null ? null : Math.round(m.rssFile / MB),
        heapUsedMb: Math.round(m.heapUsed / MB),
        externalMb: Math.round(m.external / MB),
        engineTrackedMb: engine ? Math.round(engine.tracked / MB) : null,
        cachedWorkflows: worker.getStatus().numCachedWorkflows,
        windowsDecided: windowBatcher.stats().windows,
        cpuMs: Math.round((used.user + used.system) / 1000),
      };
    };
    const before = await sample(0);
    log(`  before the monitors: ${render(before)}`);

    const ids = Array.from({ length: N }, (_, i) => `cache-${String(i).padStart(4, '0')}`);
    for (const modelId of ids) {
      const policy = parsePolicy({
        name: 'cache',
        version: '1',
        model: modelId,
        trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
      });
      const input: ModelMonitorInput = {
        modelId,
        policy: policy.policy,
        policyRef: policy.ref,
        cadence: '1h',
        settle: '0s',
      };
      await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      });
    }
    log(`  ${N} monitors started`);

    const samples: Sample[] = [];
    for (let tick = 1; tick <= TICKS; tick++) {
      // Short calls: one long env.sleep on a loaded machine outlives its connection (see test/helpers/time-skipping.ts).
      for (let step = 0; step < 6; step++) await env.sleep(HOUR / 6);
      const s = await sample(tick);
      samples.push(s);
      log(`  ${render(s)}`);
    }
    const last = samples.at(-1)!;
    const anonGrowth = (last.rssAnonymousMb ?? 0) - (before.rssAnonymousMb ?? 0);
    const decided = (s: Sample, i: number) =>
      s.windowsDecided - (i === 0 ? before.windowsDecided : samples[i - 1]!.windowsDecided);
    const cpuPerWindow = samples.map((s, i) => (decided(s, i) > 0 ? Math.round(s.cpuMs / decided(s, i)) : null));
    const report = {
      benchmark: 'workflow-cache',
      command: `npm run bench -- workflow-cache ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        ...machine(),
        loadAtStart: load.map((l) => Number(l.toFixed(2))),
        loadAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
      settings: { models: N, cache: config.temporal.maxCachedWorkflows, ticks: TICKS },
      before,
      end: last,
      rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
      rssAnonymousMaxMb: Math.max(...samples.map((s) => s.rssAnonymousMb ?? 0)),
      /**
       * Anonymous RSS added since before the monitors, per workflow cached at the end (MB): an upper
       * bound, as it includes the process's own warm-up; two runs at different --cache give the
       * workflows' share.
       */
      anonymousGrowthMbPerCachedWorkflow:
        last.cachedWorkflows > 0 ? Number((anonGrowth / last.cachedWorkflows).toFixed(3)) : null,
      /** CPU per window decided (ms), over the first and the last third of the ticks. */
      cpuMsPerWindowFirstThird: median(cpuPerWindow.slice(0, Math.ceil(TICKS / 3))),
      cpuMsPerWindowLastThird: median(cpuPerWindow.slice(-Math.ceil(TICKS / 3))),
      samples,
    };
    log(
      `workflow-cache: ${N} monitors, cache ${report.settings.cache}, ${TICKS} ticks: anonymous RSS ${before.rssAnonymousMb} → ${last.rssAnonymousMb} MB ` +
        `(max ${report.rssAnonymousMaxMb}), ${last.cachedWorkflows} cached, ${last.windowsDecided} windows decided; ` +
        `${report.anonymousGrowthMbPerCachedWorkflow ?? '-'} MB growth per cached workflow (upper bound); CPU per window ${report.cpuMsPerWindowFirstThird} ms (first third) → ${report.cpuMsPerWindowLastThird} ms (last third)`,
    );
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await stopWorker();
    await ch.close();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(xs: readonly (number | null)[]): number | null {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor(s.length / 2)]!;
}

function render(s: Sample): string {
  return (
    `tick ${s.tick}: RSS ${s.rssMb} MB (anon ${s.rssAnonymousMb ?? '-'}, file ${s.rssFileMb ?? '-'}), heap ${s.heapUsedMb} MB, ` +
    `external ${s.externalMb} MB, engine ${s.engineTrackedMb ?? '-'} MB; ${s.cachedWorkflows} cached, ` +
    `${s.windowsDecided} windows, CPU ${s.cpuMs} ms`
  );
}

await main();

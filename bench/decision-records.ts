/**
 * What recording a fleet's decisions costs the embedded engine: one at a time (a look-up of the
 * id and a one-row insert per decision, the monitor up to 8ae132e) against in batches
 * (`recordDecisions`: one look-up and one insert per batch, as activities/decision-batcher.ts
 * gathers them).
 *
 *   npm run bench -- decision-records [--models 1000] [--history 30] [--rounds 3] [--batch 32] [--json]
 *
 * One process, embedded chDB in a new data directory: --models models with --history minutes of
 * decisions stored already (one insert a minute, as batches would leave them), then --rounds
 * rounds of one more minute's decisions for every model, each recorded both ways on the same
 * table (which goes first alternates; the second way records the next minute). Reported per way:
 * ms per decision (medians of the rounds), and the decisions table's active parts after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openClickHouse, queryRows, type ClickHouse } from '../platform/clickhouse/client.ts';
import { recordDecision, recordDecisions, type DecisionRecord } from '../platform/clickhouse/decisions-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig } from '../platform/config.ts';
import { machine } from './lib/cli.ts';

const USAGE = `Usage: npm run bench -- decision-records [options]

A fleet's decision records, one at a time against in batches, on embedded chDB.

  --models N    models (default 1000)
  --history M   minutes of decisions stored before the rounds (default 30)
  --rounds R    rounds; each records one minute's decisions each way (default 3)
  --batch B     decisions a batch (default 32: the window batcher's batch)
  --json        print the report as JSON on stdout
  -h, --help    this text
`;

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '1000' },
    history: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const positive = (name: 'models' | 'history' | 'rounds' | 'batch'): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} ${args[name]}: a whole number ≥ 1\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const MODELS = positive('models');
const HISTORY = positive('history');
const ROUNDS = positive('rounds');
const BATCH = positive('batch');

const T0 = Date.UTC(2026, 11, 1);
const MINUTE = 60_000;
const modelIds = Array.from({ length: MODELS }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);

const decision = (modelId: string, minute: number): DecisionRecord => ({
  decisionId: `monitor-${modelId}/run/${minute}`,
  modelId,
  modelVersion: 'v1',
  workflowId: `monitor-${modelId}`,
  runId: 'run',
  decidedAt: T0 + minute * MINUTE + 10_000,
  kind: 'no-action',
  actor: 'system',
  reason: 'No trigger fired: quality 0.91 within its band; no drift in 4 features.',
  policy: { name: 'default', version: '1', hash: 'sha256:0123456789abcdef' },
  statistics: { quality: 0.91, drift: { f1: 0.02, f2: 0.01, f3: 0.03, region: 0.01 }, events: 300 },
  thresholds: { quality: 0.85 },
  windows: [{ start: T0 + minute * MINUTE, end: T0 + (minute + 1) * MINUTE }],
  trainingWindow: null,
  lineageId: '',
  details: { guards: [], reason: 'no-action' },
});

const activeParts = async (ch: ClickHouse): Promise<number> =>
  Number(
    (
      await queryRows<{ n: string }>(
        ch.client,
        "SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'decisions' AND active",
        {},
      )
    )[0]?.n ?? 0,
  );

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function oneAtATime(ch: ClickHouse, minute: number): Promise<number> {
  const t0 = performance.now();
  for (const m of modelIds) await recordDecision(ch.client, decision(m, minute));
  return performance.now() - t0;
}

async function batched(ch: ClickHouse, minute: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < modelIds.length; i += BATCH)
    await recordDecisions(
      ch.client,
      modelIds.slice(i, i + BATCH).map((m) => decision(m, minute)),
    );
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-decision-records-'));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    for (let minute = 0; minute < HISTORY; minute++)
      await recordDecisions(
        ch.client,
        modelIds.map((m) => decision(m, minute)),
      );
    const ms: Record<'oneAtATime' | 'batched', number[]> = { oneAtATime: [], batched: [] };
    const parts: Record<'oneAtATime' | 'batched', number[]> = { oneAtATime: [], batched: [] };
    let minute = HISTORY;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['oneAtATime', 'batched'] as const) : (['batched', 'oneAtATime'] as const);
      for (const way of order) {
        const elapsed = way === 'oneAtATime' ? await oneAtATime(ch, minute) : await batched(ch, minute);
        ms[way].push(elapsed / MODELS);
        parts[way].push(await activeParts(ch));
        process.stderr.write(
          `round ${round + 1} ${way}: ${(elapsed / MODELS).toFixed(2)} ms a decision, ${parts[way].at(-1)} active parts\n`,
        );
        minute += 1;
      }
    }
    const stored = Number(
      (await queryRows<{ n: string }>(ch.client, 'SELECT count() AS n FROM decisions', {}))[0]?.n ?? 0,
    );
    const report = {
      benchmark: 'decision-records',
      command: `npm run bench -- decision-records ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { ...machine(), load: os.loadavg().map((l) => Number(l.toFixed(2))) },
      settings: { models: MODELS, history: HISTORY, rounds: ROUNDS, batch: BATCH },
      msPerDecision: { oneAtATime: median(ms.oneAtATime), batched: median(ms.batched) },
      rounds: ms,
      activeParts: parts,
      decisionsStored: stored,
    };
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        `decision records, ${MODELS} models, ${HISTORY} minutes stored, batches of ${BATCH}: ` +
          `one at a time ${report.msPerDecision.oneAtATime.toFixed(2)} ms a decision, ` +
          `batched ${report.msPerDecision.batched.toFixed(2)} ms (×${(report.msPerDecision.oneAtATime / report.msPerDecision.batched).toFixed(1)}); ` +
          `${stored} decisions stored\n`,
      );
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

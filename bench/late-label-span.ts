/**
 * The batched late-label read (`batchedLateLabelledScoreGroups`) of one batch of models at a
 * 1-minute cadence, by the earlier windows it asks for: every kept window (before the late-label
 * horizon: 16 windows after 16 minutes, 160 after 160) or the windows inside the horizon (after:
 * labels 30 s late give auto's minimum, 2 cadences). SQL ms (best of --repeat, alternating) and the
 * rows the engine read. A flat "horizon" column as the span grows is the claim.
 *
 *   npm run bench -- late-label-span [--models 32] [--rate 1] [--spans 16,160] [--repeat 3] [--json] [--dir D]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../platform/clickhouse/ingest-repository.ts';
import { batchedLateLabelledScoreGroups } from '../platform/clickhouse/late-label-batch-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig } from '../platform/config.ts';
import { readStatisticsClient, rowsRead } from '../platform/clickhouse/read-statistics.ts';
import { argReader, machine } from './lib/cli.ts';

const MINUTE = 60_000;
const T = Date.UTC(2025, 0, 1);
const LABEL_DELAY = 30_000;
const BINS = 100;

const log = (line: string): void => void process.stderr.write(`[late-label-span] ${line}\n`);

export async function main(argv: readonly string[]): Promise<void> {
  const args = argReader(argv);
  if (args.flag('help')) {
    process.stdout.write(
      'usage: npm run bench -- late-label-span [--models 32] [--rate 1] [--spans 16,160] [--repeat 3] [--json] [--dir D]\n',
    );
    return;
  }
  const models = Number(args.option('models', '32'));
  const rate = Number(args.option('rate', '1'));
  const spans = args.option('spans', '16,160').split(',').map(Number);
  const repeat = Number(args.option('repeat', '3'));
  const minutes = Math.max(...spans) + 1;
  const own = args.option('dir', '') === '';
  const dir = own ? mkdtempSync(path.join(os.tmpdir(), 'halflife-late-span-')) : args.option('dir', '');
  mkdirSync(dir, { recursive: true });
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    const ids = Array.from({ length: models }, (_, m) => `late-span-${m}`);
    log(`inserting ${models} models × ${minutes} min × ${rate * 60} events/min`);
    for (let minute = 0; minute < minutes; minute += 10) {
      const events = ids.flatMap((modelId) =>
        Array.from({ length: Math.min(10, minutes - minute) * 60 * rate }, (_, i) => {
          const ts = T + minute * MINUTE + Math.floor((i * 1000) / rate);
          const id = createHash('sha256').update(`${modelId}-${ts}-${i}`).digest('hex').slice(0, 16);
          return { id, modelId, ts, score: ((i * 37) % 100) / 100 };
        }),
      );
      await repo.insertEncoded(
        'scoring_events',
        events.map((e) =>
          encodeScoringEvent({
            event_id: e.id,
            model_id: e.modelId,
            model_version: 'v1',
            ts: e.ts,
            subject_id: '',
            num_features: { x: e.score },
            cat_features: {},
            missing_features: [],
            prediction_score: e.score,
            prediction_class: null,
            prediction_value: null,
            metadata: {},
            contract_version: 1,
            source: 'bench',
            source_ref: '',
          }),
        ),
      );
      await repo.insertEncoded(
        'labels',
        events.map((e, i) =>
          encodeLabel({
            event_id: e.id,
            label: String(i % 2),
            label_numeric: i % 2,
            label_ts: e.ts + LABEL_DELAY,
            contract_version: 1,
            source: 'bench',
            source_ref: '',
          }),
        ),
      );
    }
    const stats = readStatisticsClient(ch.client);
    const results: {
      span: number;
      form: string;
      windows: number;
      best_ms: number;
      rows_read: number;
      groups: number;
    }[] = [];
    for (const span of spans) {
      // The tick of the window [span, span + 1) min: labels that arrived in the last minute.
      const start = T + span * MINUTE;
      const arrived = { start: start - MINUTE, end: start };
      const kept = Array.from({ length: span }, (_, k) => ({ start: T + k * MINUTE, end: T + (k + 1) * MINUTE }));
      const forms = { 'every kept window (before)': kept, 'inside the horizon, 2 cadences (after)': kept.slice(-2) };
      const best: Record<string, { ms: number; rows: number; groups: number }> = {};
      for (let r = 0; r < repeat; r++)
        for (const [form, windows] of Object.entries(forms)) {
          stats.take();
          const t0 = performance.now();
          const out = await batchedLateLabelledScoreGroups(
            stats.client,
            ids.map((modelId) => ({ modelId, windows, arrived })),
            BINS,
          );
          const ms = performance.now() - t0;
          const rows = rowsRead(stats.take());
          const groups = out.reduce((n, g) => n + g.length, 0);
          if (!best[form] || ms < best[form].ms) best[form] = { ms, rows, groups };
        }
      for (const [form, b] of Object.entries(best))
        results.push({
          span,
          form,
          windows: forms[form as keyof typeof forms].length,
          best_ms: Math.round(b.ms * 10) / 10,
          rows_read: b.rows,
          groups: b.groups,
        });
    }
    const report = {
      machine: machine(),
      load: os.loadavg()[0] ?? 0,
      models,
      rate,
      label_delay_s: LABEL_DELAY / 1000,
      results,
    };
    if (args.flag('json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        `| span (windows) | late-label windows asked | SQL ms (best of ${repeat}) | rows read | groups |\n|---|---|---|---|---|\n`,
      );
      for (const r of results)
        process.stdout.write(`| ${r.span} | ${r.form}: ${r.windows} | ${r.best_ms} | ${r.rows_read} | ${r.groups} |\n`);
      process.stdout.write(`1-minute load ${report.load.toFixed(1)}; ${report.machine.date}\n`);
    }
  } finally {
    await ch.close();
    if (own) rmSync(dir, { recursive: true, force: true });
  }
}

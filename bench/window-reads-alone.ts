/**
 * Window-read benchmark, `--alone` mode: what one model's window costs read on its own (the path
 * a monitor takes when its last window was larger than the batch's limit) as the labels stored
 * for other models and older events grow. Each step adds labels (ids no event of the measured
 * model has: other models' and older labels) until the table holds `--other-labels` of them,
 * then times, best of `--repeat`, alternating:
 *
 * - the whole alone read (`readWindowAlone`: counts, versions, score histogram, labelled groups),
 * - its labelled score groups alone (`labelledScoreGroups`, the join of the window with labels),
 * - the late labels of the earlier window (`lateLabelledScoreGroups`),
 *
 * each as the repositories run it (the label side restricted to the labels it can join) and in the
 * unrestricted form (every label of every model and all time: test/helpers/unrestricted-labels.ts),
 * with the results of both checked equal. A flat restricted column is the claim.
 *
 *   npm run bench -- window-reads --alone [--other-labels 0,1000000,5000000] [--events 300]
 *                                         [--reference-events 2000] [--repeat 3] [--json] [--dir D]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { readWindowAlone, type WindowReadRequest } from '../activities/window-read.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { buildReference } from '../operations/build-reference.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { labelledScoreGroups, lateLabelledScoreGroups } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { unrestricted } from '../test/helpers/unrestricted-labels.ts';
import { argReader, machine } from './lib/cli.ts';
import { generateEvents, generateLabels } from './lib/synthetic-events.ts';

const MODEL = 'bench-alone';
const REF_START = Date.UTC(2025, 0, 1);
/** The window a day after the reference, in the same monthly partition. */
const WINDOW_START = REF_START + 86_400_000;
const SCORE_BINS = DEFAULT_SCORE_HISTOGRAM_BINS;

const log = (line: string): void => void process.stderr.write(`[window-reads-bench --alone] ${line}\n`);

export const ALONE_HELP = `usage: npm run bench -- window-reads --alone [options]
  --other-labels A,B,…   labels stored for other models and older events at each step (default 0,1000000,5000000)
  --events N             events in the measured window (default 300)
  --reference-events N   events in the model's reference window (default 2000)
  --repeat N             timed reads per step and form, alternating (default 3)
  --json                 print the result as JSON
  --dir D                data directory of the embedded ClickHouse (default: a new temporary one, removed after)
SQL ms of one model's window read alone (and of its labelled join and late-label read), restricted
and unrestricted, as the labels of other models and older events grow.
`;

/** One timed read: best and every run, in ms. */
interface Timed {
  best_ms: number;
  runs_ms: number[];
}

interface Step {
  other_labels: number;
  stored_labels: number;
  load1: number;
  alone_read: { restricted: Timed; unrestricted: Timed };
  labelled_join: { restricted: Timed; unrestricted: Timed };
  late_labels: { restricted: Timed; unrestricted: Timed };
}

/** Insert labels of ids no stored event has until `total` such labels are stored. */
async function addOtherLabels(ch: ClickHouse, have: number, total: number): Promise<void> {
  for (let from = have; from < total; from += 1_000_000) {
    const n = Math.min(1_000_000, total - from);
    await ch.client.command({
      query: `INSERT INTO labels (event_id, label, label_numeric, label_ts, contract_version, source, source_ref)
        SELECT concat('other-', toString(number)), toString(y), y, fromUnixTimestamp64Milli(toInt64({t0:Int64} + number * 37)), 1, 'bench', ''
        FROM (SELECT number, toFloat64(cityHash64(number, 11) % 2) AS y FROM numbers({from:UInt64}, {n:UInt64}))`,
      query_params: { t0: REF_START - 30 * 86_400_000, from, n },
    });
    log(`  ${(from + n).toLocaleString('en-US')} other labels stored`);
  }
}

/** Time `read` restricted and unrestricted, alternating; the results of both must agree. */
async function both<T>(
  client: ClickHouseClient,
  repeat: number,
  read: (c: ClickHouseClient) => Promise<T>,
): Promise<{ restricted: Timed; unrestricted: Timed }> {
  const runs = { restricted: [] as number[], unrestricted: [] as number[] };
  let results: { restricted?: T; unrestricted?: T } = {};
  // One untimed read of each form first (the query plans and the page cache warm).
  await read(client);
  await read(unrestricted(client).client);
  for (let r = 0; r < repeat; r++)
    for (const form of ['restricted', 'unrestricted'] as const) {
      const c = form === 'restricted' ? client : unrestricted(client).client;
      const start = performance.now();
      const result = await read(c);
      runs[form].push(performance.now() - start);
      results = { ...results, [form]: result };
    }
  if (!isDeepStrictEqual(normalised(results.restricted), normalised(results.unrestricted)))
    throw new Error('the restricted and unrestricted reads disagree');
  const timed = (ms: number[]): Timed => ({ best_ms: Math.min(...ms), runs_ms: ms });
  return { restricted: timed(runs.restricted), unrestricted: timed(runs.unrestricted) };
}

/** Results with unordered rows sorted and sums rounded to 9 significant digits (summation order). */
function normalised(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number(value.toPrecision(9));
  if (value instanceof Map) return normalised([...value.entries()]);
  if (Array.isArray(value))
    return value.map(normalised).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalised(v)]));
  return value;
}

/** The `--alone` mode of bench/window-reads.ts. */
export async function aloneMode(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  const steps = option('other-labels', '0,1000000,5000000').split(',').map(Number);
  const events = Number(option('events', '300'));
  const referenceEvents = Number(option('reference-events', '2000'));
  const repeat = Number(option('repeat', '3'));
  const given = option('dir', '');
  const dir = given || mkdtempSync(path.join(os.tmpdir(), 'halflife-window-reads-alone-'));
  mkdirSync(dir, { recursive: true });
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  try {
    await applyMigrations(ch.client);
    await generateEvents(ch, { model: MODEL, start: REF_START, rows: referenceEvents, seed: 1, regions: 8 });
    await generateEvents(ch, { model: MODEL, start: WINDOW_START, rows: events, seed: 2, regions: 8 });
    await generateLabels(ch, { model: MODEL, start: REF_START, rows: referenceEvents, share: 0.5, delayMs: 30_000 });
    await generateLabels(ch, { model: MODEL, start: WINDOW_START, rows: events, share: 0.5, delayMs: 30_000 });
    // The reference window's labels corrected a day later: late labels while the window is read.
    await generateLabels(ch, {
      model: MODEL,
      start: REF_START,
      rows: referenceEvents,
      share: 0.5,
      delayMs: 86_400_000,
    });
    const reference = await buildReference(ch.client, {
      modelId: MODEL,
      start: REF_START,
      end: REF_START + referenceEvents,
    });
    const window = { start: WINDOW_START, end: WINDOW_START + events };
    const arrivedBy = window.end + 60_000;
    const request: WindowReadRequest = { modelId: MODEL, ...window, reference, labelsArrivedBy: arrivedBy };
    const earlier = [{ start: REF_START, end: REF_START + referenceEvents }];

    const out: Step[] = [];
    let have = 0;
    for (const target of steps) {
      await addOtherLabels(ch, have, target);
      have = Math.max(have, target);
      const [stored] = await queryRows<{ n: string }>(ch.client, 'SELECT count() AS n FROM labels');
      const step: Step = {
        other_labels: target,
        stored_labels: Number(stored?.n ?? 0),
        load1: os.loadavg()[0]!,
        alone_read: await both(ch.client, repeat, (c) => readWindowAlone(c, request, SCORE_BINS)),
        labelled_join: await both(ch.client, repeat, (c) =>
          labelledScoreGroups(c, MODEL, window, SCORE_BINS, arrivedBy),
        ),
        late_labels: await both(ch.client, repeat, (c) =>
          lateLabelledScoreGroups(c, MODEL, earlier, { start: WINDOW_START, end: arrivedBy }, SCORE_BINS),
        ),
      };
      out.push(step);
      log(
        `${target.toLocaleString('en-US')} other labels: alone read ${step.alone_read.restricted.best_ms.toFixed(1)} ms (unrestricted ${step.alone_read.unrestricted.best_ms.toFixed(1)}), labelled join ${step.labelled_join.restricted.best_ms.toFixed(1)} (${step.labelled_join.unrestricted.best_ms.toFixed(1)}), late labels ${step.late_labels.restricted.best_ms.toFixed(1)} (${step.late_labels.unrestricted.best_ms.toFixed(1)})`,
      );
    }
    const result = {
      machine: machine(),
      command: `npm run bench -- window-reads ${argv.join(' ')}`.trim(),
      events_per_window: events,
      reference_events: referenceEvents,
      repeat,
      steps: out,
    };
    if (flag('json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const m = result.machine;
      const ms = (t: { restricted: Timed; unrestricted: Timed }) =>
        `${t.restricted.best_ms.toFixed(1).padStart(8)} ${t.unrestricted.best_ms.toFixed(1).padStart(8)}`;
      process.stdout.write(
        [
          `machine: ${m.nproc} cores, ${m.memory}, ${m.cpu}; ${m.date}`,
          `one model's window of ${events} events read alone; best of ${repeat} ms, restricted / unrestricted`,
          'other labels    load   alone read          labelled join       late labels',
          ...out.map(
            (s) =>
              `${s.other_labels.toLocaleString('en-US').padStart(12)} ${s.load1.toFixed(1).padStart(6)}  ${ms(s.alone_read)}   ${ms(s.labelled_join)}   ${ms(s.late_labels)}`,
          ),
        ].join('\n') + '\n',
      );
    }
  } finally {
    await ch.close();
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

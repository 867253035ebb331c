/**
 * `halflife backtest`: replay a labelled scoring history (CSV) through the monitor's tick and a
 * retrain policy, training the built-in logistic regression whenever the policy retrains, and
 * report the decisions, the quality over time and what the schedule cost.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { BacktestInputError, runBacktest } from '../../detectors/backtest/engine.ts';
import type { BacktestCostModel, BacktestReport, BacktestRow } from '../../detectors/backtest/types.ts';
import { tryParseDuration } from '../../detectors/policy/duration.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import { categoricalColumn, detectKinds, numericColumn, readCsv, type RawTable } from '../../platform/tabular.ts';
import { ConfigError, ValidationError } from '../../platform/errors.ts';
import { loadPolicyFile } from '../../platform/policy-file.ts';
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { displayReason } from '../../detectors/texts/decision-reason.ts';
import { formatInstant } from '../../detectors/texts/format.ts';
import { emit, table } from '../output.ts';

interface BacktestCliOptions {
  data: string;
  policy: string;
  json?: boolean;
  timestamp: string;
  label: string;
  /** A column name, `false` from --no-prediction, or undefined (use "prediction" when the file has it). */
  prediction?: string | false;
  features?: string;
  categorical?: string;
  cadence: string;
  reference: string;
  valuePerQualityUnit?: string;
  retrainCost?: string;
  quiet?: boolean;
}

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('replay a labelled scoring history through a retrain policy: decisions, quality over time, costs')
    .requiredOption('--data <file>', 'CSV with a header: timestamp, features, optional prediction score, label')
    .requiredOption('--policy <file>', 'retrain policy YAML (see examples/policies)')
    .option('--json', 'machine-readable output')
    .option('--timestamp <column>', 'timestamp column (ISO-8601, or epoch seconds / milliseconds)', 'timestamp')
    .option('--label <column>', 'label column (0/1, true/false; empty = not labelled)', 'label')
    .option(
      '--prediction <column>',
      'score column of the model that served the history (default: "prediction" if present)',
    )
    .option('--no-prediction', 'ignore any score column: train the first model on the reference period')
    .option('--features <names>', 'feature columns, comma-separated (default: every other column)')
    .option('--categorical <names>', 'which features are categorical, comma-separated (default: non-numeric ones)')
    .option('--cadence <duration>', 'window length, as the monitor cadence', '1h')
    .option('--reference <duration>', 'reference period at the start of the history', '1d')
    .option(
      '--value-per-quality-unit <money>',
      "price of staleness: money per event per 1.0 of quality lost (default: the cost-aware policy's)",
    )
    .option(
      '--retrain-cost <money>',
      "price of one retrain (default: the cost-aware policy's retrainCost + expected deployment risk)",
    )
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Costs: staleness per window = value per quality unit × events × max(0, fresh quality − window quality),
where fresh quality is the serving version's validation quality; each retrain costs the retrain cost
(plus, for a cost-aware policy, its expected deployment risk). Without a cost-aware policy or the two
price options, costs are reported as null.`,
    )
    .action(async (opts: BacktestCliOptions) => {
      const json = !!opts.json;
      const report = await backtestFile(opts);
      emit(json, toJson(report, opts), () => render(report, opts));
    });
}

async function backtestFile(opts: BacktestCliOptions): Promise<BacktestReport> {
  const cadenceMs = durationOption('--cadence', opts.cadence);
  const referenceMs = durationOption('--reference', opts.reference);
  if (referenceMs < cadenceMs)
    throw new ConfigError(
      `--reference ${opts.reference} is shorter than --cadence ${opts.cadence}: the reference needs at least one window`,
    );
  const { policy } = loadPolicyFile(opts.policy);
  const costModel = costModelOf(policy, opts);
  const file = opts.data;
  const progress = new Progress(!opts.quiet, path.basename(file));

  const table = await readCsv(file, { onProgress: (_f, n) => progress.reading(n) });
  const columns = resolveColumns(file, table.columns, opts);
  // Kinds as `halflife drift` decides them: numeric when most cells are numbers, unless listed categorical.
  const kinds = detectKinds([table], [...columns.numeric, ...columns.categorical], {
    categorical: columns.categorical,
  });
  columns.numeric = [...kinds].filter(([, k]) => k === 'numeric').map(([n]) => n);
  columns.categorical = [...kinds].filter(([, k]) => k === 'categorical').map(([n]) => n);
  const rows = buildRows(table, columns);
  // Files are not always sorted; the stable sort keeps the file order within one instant.
  rows.sort((a, b) => a.time - b.time);

  try {
    return await runBacktest({
      rows,
      numeric: columns.numeric,
      categorical: columns.categorical,
      hasPrediction: columns.prediction !== null,
      policy,
      cadenceMs,
      referenceWindowMs: referenceMs,
      trainer: builtInTrainer(),
      costModel,
      onWindow: (done) => progress.windows(done.windows, done.time, done.retrains),
    });
  } catch (err) {
    if (err instanceof BacktestInputError) throw new ValidationError(`${file}: ${err.message}`);
    throw err;
  } finally {
    progress.done();
  }
}

interface ResolvedColumns {
  timestamp: string;
  label: string;
  prediction: string | null;
  numeric: string[];
  categorical: string[];
}

function resolveColumns(file: string, header: string[], opts: BacktestCliOptions): ResolvedColumns {
  const has = new Set(header);
  const need = (column: string, option: string): string => {
    if (!has.has(column))
      throw new ValidationError(`${file}: no column "${column}" (${option}); the header has: ${header.join(', ')}`);
    return column;
  };
  const timestamp = need(opts.timestamp, '--timestamp');
  const label = need(opts.label, '--label');
  const prediction =
    opts.prediction === false
      ? null
      : opts.prediction !== undefined
        ? need(opts.prediction, '--prediction')
        : has.has('prediction')
          ? 'prediction'
          : null;
  const list = (text: string | undefined): string[] | null =>
    text === undefined
      ? null
      : text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  const categorical = (list(opts.categorical) ?? []).map((c) => need(c, '--categorical'));
  const roles = new Set([timestamp, label, ...(prediction ? [prediction] : [])]);
  const features = (
    list(opts.features) ?? header.filter((h) => !roles.has(h) && !(opts.prediction === false && h === 'prediction'))
  ).map((c) => need(c, '--features'));
  if (features.length === 0)
    throw new ValidationError(
      `${file}: no feature columns (the header has only ${header.join(', ')}); name them with --features`,
    );
  for (const c of categorical) if (!features.includes(c)) features.push(c);
  const role = features.find((f) => roles.has(f));
  if (role !== undefined)
    throw new ValidationError(
      `${file}: column "${role}" cannot be both a feature and the timestamp, label or prediction`,
    );
  return { timestamp, label, prediction, numeric: features.filter((f) => !categorical.includes(f)), categorical };
}

const MISSING_LABEL = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '<na>']);

/** Rows from the table's columns; every bad cell is an error naming file, line and column. */
function buildRows(table: RawTable, columns: ResolvedColumns): BacktestRow[] {
  const file = table.file;
  const cells = (name: string): string[] => table.cells[table.columns.indexOf(name)] ?? [];
  const at = (r: number, column: string): string => `${file}, line ${table.lines[r]}, column "${column}"`;
  const numeric = columns.numeric.map((name) => [name, numericColumn(table, name)] as const);
  const categorical = columns.categorical.map((name) => [name, categoricalColumn(table, name)] as const);
  const times = cells(columns.timestamp);
  const labels = cells(columns.label);
  const predictions = columns.prediction === null ? null : cells(columns.prediction);
  const rows: BacktestRow[] = new Array<BacktestRow>(times.length);
  for (let r = 0; r < times.length; r++) {
    const rawTime = times[r] ?? '';
    const time = parseTimestamp(rawTime);
    if (time === null)
      throw new ValidationError(
        `${at(r, columns.timestamp)}: cannot parse timestamp "${rawTime}" (expected ISO-8601 like 2026-01-31T12:00:00Z, or epoch seconds or milliseconds)`,
      );

    const rawLabel = (labels[r] ?? '').trim().toLowerCase();
    let label: 0 | 1 | null;
    if (MISSING_LABEL.has(rawLabel)) label = null;
    else if (rawLabel === '1' || rawLabel === '1.0' || rawLabel === 'true') label = 1;
    else if (rawLabel === '0' || rawLabel === '0.0' || rawLabel === 'false') label = 0;
    else
      throw new ValidationError(
        `${at(r, columns.label)}: label "${labels[r]}" is not binary (expected 0/1 or true/false; empty means not labelled)`,
      );

    let prediction: number | null = null;
    if (predictions !== null) {
      const raw = (predictions[r] ?? '').trim();
      prediction = raw === '' ? Number.NaN : Number(raw);
      if (!(prediction >= 0 && prediction <= 1))
        throw new ValidationError(
          `${at(r, columns.prediction as string)}: score "${raw}" is not a probability in [0, 1] (or pass --no-prediction to train the first model instead)`,
        );
    }

    const features: Record<string, number | string | null> = {};
    // Non-finite numbers count as missing, as the drift tests treat them.
    for (const [name, values] of numeric) features[name] = Number.isFinite(values[r]) ? (values[r] as number) : null;
    for (const [name, values] of categorical) features[name] = values[r] ?? null;
    rows[r] = { time, features, prediction, label };
  }
  return rows;
}

/** ISO-8601, or epoch seconds / milliseconds (≥ 1e11 is read as milliseconds: after 1973 in ms, year 5138 in s). */
export function parseTimestamp(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return Math.abs(n) >= 1e11 ? n : n * 1000;
  }
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

function durationOption(option: string, text: string): number {
  const ms = tryParseDuration(text);
  if (ms === null || ms <= 0)
    throw new ConfigError(
      `${option} "${text}": expected a duration like "1h" or "2d" (one number and one unit of ms, s, m, h, d, w)`,
    );
  return ms;
}

function costModelOf(policy: RetrainPolicy, opts: BacktestCliOptions): BacktestCostModel | null {
  const number = (option: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${option} "${text}": expected a number ≥ 0`);
    return n;
  };
  const value = number('--value-per-quality-unit', opts.valuePerQualityUnit);
  const retrain = number('--retrain-cost', opts.retrainCost);
  const t = policy.trigger;
  if (t.kind === 'cost-aware') {
    // Explicit options win: they let one price a cost-aware policy under other assumptions.
    return {
      valuePerQualityUnit: value ?? t.valuePerQualityUnit,
      retrainCost: retrain ?? t.retrainCost,
      riskCost: retrain !== undefined ? 0 : t.deploymentRisk.probability * t.deploymentRisk.cost,
    };
  }
  if (value === undefined && retrain === undefined) return null;
  if (value === undefined || retrain === undefined)
    throw new ConfigError(`a ${t.kind} policy has no prices: pass both --value-per-quality-unit and --retrain-cost`);
  return { valuePerQualityUnit: value, retrainCost: retrain, riskCost: 0 };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round = (x: number | null, digits = 6): number | null => (x === null ? null : Number(x.toFixed(digits)));

function toJson(r: BacktestReport, opts: BacktestCliOptions): unknown {
  return {
    data: opts.data,
    policy: r.policy,
    model: r.model,
    trainer: r.trainer,
    cadence: opts.cadence,
    reference: { start: iso(r.reference.start), end: iso(r.reference.end), rows: r.reference.rows },
    rows: r.rows,
    labelled_rows: r.labelledRows,
    decisions: r.decisions.map((d) => ({
      time: iso(d.time),
      kind: d.kind,
      reason: d.reason,
      version: d.version,
      ...(d.retrain
        ? {
            retrain: {
              new_version: d.retrain.newVersion,
              training_start: iso(d.retrain.trainingStart),
              training_end: iso(d.retrain.trainingEnd),
              training_rows: d.retrain.trainingRows,
              fresh_quality: round(d.retrain.freshQuality),
              ...(d.retrain.error ? { error: d.retrain.error } : {}),
            },
          }
        : {}),
    })),
    retrains: r.retrains,
    failed_retrains: r.failedRetrains,
    total_cost: round(r.totalCost),
    staleness_cost: round(r.stalenessCost),
    retrain_cost: round(r.retrainCost),
    cost_model:
      r.costModel === null
        ? null
        : {
            value_per_quality_unit: r.costModel.valuePerQualityUnit,
            retrain_cost: r.costModel.retrainCost,
            risk_cost: r.costModel.riskCost,
          },
    versions: r.versions.map((v) => ({
      version: v.version,
      trained_at: iso(v.trainedAt),
      fresh_quality: round(v.freshQuality),
      source: v.source,
      training_rows: v.trainingRows,
    })),
    windows: r.windows.map((w) => ({
      start: iso(w.start),
      end: iso(w.end),
      events: w.events,
      labelled: w.labelled,
      version: w.version,
      quality: round(w.quality),
      estimated_quality: round(w.estimatedQuality),
      quality_used: w.qualityUsed,
      drift:
        w.drift === null
          ? null
          : {
              detected: w.drift.detected,
              drifted_share: round(w.drift.driftedShare),
              drifted_features: w.drift.driftedFeatures,
            },
      staleness_cost: round(w.stalenessCost),
    })),
  };
}

function render(r: BacktestReport, opts: BacktestCliOptions): string {
  const money = (x: number | null): string =>
    x === null ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: 2 });
  const q = (x: number | null): string => (x === null ? '—' : x.toFixed(4));
  const measured = r.windows.filter((w) => w.quality !== null);
  const qualities = measured.map((w) => w.quality as number);
  const mean = qualities.length > 0 ? qualities.reduce((a, b) => a + b, 0) / qualities.length : null;
  const lines = [
    `backtest: policy ${r.policy.name} v${r.policy.version} (${r.policy.trigger}) on ${opts.data}`,
    `  ${r.rows} rows (${r.labelledRows} labelled), reference ${formatInstant(r.reference.start)} → ${formatInstant(r.reference.end)} (${r.reference.rows} rows), ${r.windows.length} windows of ${opts.cadence}`,
    `  trainer: ${r.trainer}; first model: ${r.versions[0]?.source === 'file' ? "the file's scores" : 'trained on the reference period'}`,
    '',
    `retrains: ${r.retrains}${r.failedRetrains > 0 ? ` (+${r.failedRetrains} failed)` : ''}`,
    r.costModel === null
      ? 'cost: not priced (pass --value-per-quality-unit and --retrain-cost, or use a cost-aware policy)'
      : `cost: staleness ${money(r.stalenessCost)} + retraining ${money(r.retrainCost)} = total ${money(r.totalCost)}  (${r.costModel.valuePerQualityUnit} per event per quality unit; ${r.costModel.retrainCost} + risk ${r.costModel.riskCost} per retrain)`,
    `quality (${measured.length} measured windows): first ${q(qualities[0] ?? null)}, mean ${q(mean)}, min ${q(qualities.length > 0 ? Math.min(...qualities) : null)}, last ${q(qualities.at(-1) ?? null)}`,
    '',
  ];
  const notable = r.decisions.filter((d) => d.kind !== 'no-action');
  lines.push(
    notable.length === 0
      ? 'decisions: no action in every window'
      : `decisions other than no-action (${notable.length} of ${r.decisions.length}):`,
  );
  if (notable.length > 0)
    lines.push(
      table(
        ['time', 'kind', 'reason'],
        notable.map((d) => [
          formatInstant(d.time),
          d.kind === 'retrain' ? `retrain → ${d.retrain?.newVersion}` : d.kind,
          displayReason(d.reason),
        ]),
        { wrap: [2] },
      ),
    );

  // Quality over time, in about 24 rows whatever the length of the history.
  const per = Math.max(1, Math.ceil(r.windows.length / 24));
  const rows: (string | number)[][] = [];
  for (let i = 0; i < r.windows.length; i += per) {
    const group = r.windows.slice(i, i + per);
    const qs = group.filter((w) => w.quality !== null).map((w) => w.quality as number);
    const cost = group.reduce((s, w) => s + (w.stalenessCost ?? 0), 0);
    rows.push([
      formatInstant(group[0]?.start ?? 0),
      group.reduce((s, w) => s + w.events, 0),
      q(qs.length > 0 ? qs.reduce((a, b) => a + b, 0) / qs.length : null),
      group.filter((w) => w.drift?.detected).length,
      [...new Set(group.map((w) => w.version))].join(' '),
      r.costModel === null ? '—' : money(cost),
    ]);
  }
  lines.push(
    '',
    `quality over time (${per} window${per > 1 ? 's' : ''} per row):`,
    table(['from', 'events', 'quality', 'drifted windows', 'version', 'staleness cost'], rows),
  );
  return lines.join('\n');
}

/** Progress on stderr, at most every two seconds and only once a run has lasted two seconds. */
class Progress {
  private last = Date.now();
  private printed = false;
  constructor(
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}
  reading(rows: number): void {
    this.tick(() => `${this.label}: read ${rows} rows`);
  }
  windows(n: number, time: number, retrains: number): void {
    this.tick(() => `${this.label}: ${n} windows, up to ${new Date(time).toISOString()}, ${retrains} retrain(s)`);
  }
  done(): void {
    if (this.printed) process.stderr.write('\n');
  }
  private tick(message: () => string): void {
    if (!this.enabled || Date.now() - this.last < 2000) return;
    this.last = Date.now();
    this.printed = true;
    process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}${message()}${process.stderr.isTTY ? '' : '\n'}`);
  }
}

/**
 * `halflife backtest`: replay a labelled scoring history (CSV or Parquet) through the monitor's tick and one
 * or more retrain policies, training the built-in logistic regression (multinomial logistic or
 * ridge regression for `--kind multiclass|regression`, backtest-outcomes.ts) whenever a policy
 * retrains, and report the decisions, the quality over time and what each schedule cost —
 * with several policies, a comparison table (and, with --plot, a chart file).
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import { BacktestInputError } from '../../detectors/backtest/input-error.ts';
import type { BacktestCostModel, BacktestRow } from '../../detectors/backtest/types.ts';
import { CALENDAR_PERIODS, isCalendarPeriod, type BacktestWindowing } from '../../detectors/backtest/windowing.ts';
import type { MonitorSettings } from '../../detectors/monitor/types.ts';
import { tryParseDuration } from '../../detectors/policy/duration.ts';
import { DEFAULT_RULE_REVISION, LATEST_RULE_REVISION } from '../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import { categoricalColumn, detectKinds, numericColumn, type RawTable } from '../../platform/tabular.ts';
import { readTableFile } from '../../operations/table-file.ts';
import { ConfigError, ValidationError } from '../../platform/errors.ts';
import { loadPolicyFile, type LoadedPolicy } from '../../platform/policy-file.ts';
import { builtInMulticlassTrainer, builtInRegressionTrainer, builtInTrainer } from '../../training/backtest-trainer.ts';
import { runOutcomeBacktest } from '../../detectors/backtest/outcome-engine.ts';
import { outcomeHistory } from './backtest-outcomes.ts';
import { commaList } from '../option-values.ts';
import { emit } from '../output.ts';
import { backtestPlotHtml } from './backtest-plot.ts';
import { comparisonJson, renderComparison, renderReport, reportJson, type RunInfo } from './backtest-report.ts';

export interface BacktestCliOptions {
  data: string;
  /** Policy files or directories of them (--policy repeated). */
  policy: string[];
  json?: boolean;
  timestamp: string;
  label: string;
  /** A column name, `false` from --no-prediction, or undefined (use "prediction" when the file has it). */
  prediction?: string | false;
  features?: string;
  categorical?: string;
  cadence: string;
  /** Windows of this many rows instead of --cadence. */
  windowRows?: string;
  /** Windows of one calendar day, week or month (UTC) instead of --cadence. */
  windowPeriod?: string;
  decisionThreshold?: string;
  reference: string;
  valuePerQualityUnit?: string;
  retrainCost?: string;
  labelDelay: string;
  labelTime?: string;
  plot?: string;
  quiet?: boolean;
  /** binary, multiclass or regression. @default "binary" */
  kind?: string;
  /** A multiclass model's classes, comma-separated. @default the probability columns' suffixes */
  classes?: string;
  /** Prefix of a multiclass history's probability columns. @default "p_" */
  probabilityPrefix?: string;
  /** Revision of the cost-aware rule to replay with. @default DEFAULT_RULE_REVISION */
  ruleRevision?: string;
}

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description(
      'replay a labelled scoring history through one or more retrain policies: decisions, quality over time, costs',
    )
    .requiredOption(
      '--data <file>',
      'CSV with a header, or Parquet (*.parquet), with the same columns: timestamp, features, optional prediction score, label',
    )
    .requiredOption(
      '--policy <file|dir>',
      'retrain policy YAML (see examples/policies); repeat it, or name a directory of .yaml files, to compare policies',
      (value: string, previous: string[] = []) => [...previous, value],
    )
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
    .option('--window-rows <n>', 'windows of n rows each instead of --cadence (as NannyML chunks by size)')
    .option(
      '--window-period <period>',
      'windows of one calendar day, week (from Monday) or month, UTC, instead of --cadence',
    )
    .option(
      '--decision-threshold <score>',
      "the served model's decision threshold (score ≥ it predicts positive): label-free accuracy is estimated at it (default 0.5)",
    )
    .option('--reference <duration>', 'reference period at the start of the history', '1d')
    .option(
      '--label-delay <duration>',
      'how long labels take to arrive after their event: windows and retrains use only labels arrived by the decision time',
      '0s',
    )
    .option(
      '--label-time <column>',
      'column with when each label arrived (ISO-8601 or epoch); rows without one use --label-delay',
    )
    .option(
      '--value-per-quality-unit <money>',
      "price of staleness: money per event per 1.0 of quality lost (default: the (first) cost-aware policy's)",
    )
    .option(
      '--retrain-cost <money>',
      "price of one retrain (default: the (first) cost-aware policy's retrainCost + expected deployment risk)",
    )
    .option(
      '--kind <kind>',
      'the model: binary (a score column), multiclass (a probability column per class, the class name as label) or regression (numeric prediction and label)',
      'binary',
    )
    .option(
      '--classes <names>',
      'multiclass: the classes, comma-separated (default: the probability columns, p_<class>)',
    )
    .option('--probability-prefix <prefix>', 'multiclass: the probability columns are <prefix><class>', 'p_')
    .option('--plot <file.html>', 'write a chart of quality and cumulative true cost per policy (self-contained HTML)')
    .option(
      '--rule-revision <n>',
      `the cost-aware rule revision to replay with, 1–${LATEST_RULE_REVISION} (default ${DEFAULT_RULE_REVISION}; ${LATEST_RULE_REVISION} is the newest, opt-in): what the same history would have decided under an earlier rule`,
    )
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Costs, two ways:
  true cost  = value per quality unit × events × (1 − window quality) summed over windows, quality measured
               in hindsight on every label, + retrain cost × retrains (a retrain decided as the last window
               closes serves nothing: flagged, not charged). Policy-independent: compare policies by it.
  total cost = staleness per window, value per quality unit × events × max(0, fresh quality − window
               quality) where fresh quality is the serving version's own validation quality, + retrain cost ×
               retrains. Policy-relative: a version trained on bad data validates low and looks cheap.
Each retrain costs the retrain cost (plus, for a cost-aware policy, its expected deployment risk). Several
policies are priced alike: by the two price options, else by the first cost-aware policy. Without either,
costs are null.`,
    )
    .action(async (opts: BacktestCliOptions) => {
      const json = !!opts.json;
      const runs = await backtestFile(opts);
      if (opts.plot) writeFileSync(opts.plot, backtestPlotHtml(runs, opts.data));
      if (runs.length === 1) {
        const only = runs[0] as RunInfo;
        emit(json, reportJson(only.report, opts, only.file), () => renderReport(only.report, opts, only.file));
      } else emit(json, comparisonJson(runs, opts), () => renderComparison(runs, opts));
    });
}

/** The policy files named by --policy: files as given, directories as their *.yaml / *.yml files (sorted). */
export function policyFiles(entries: readonly string[]): string[] {
  const files: string[] = [];
  for (const entry of entries) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(entry).isDirectory();
    } catch {
      throw new ConfigError(`--policy ${entry}: no such file or directory`);
    }
    if (!isDirectory) {
      files.push(entry);
      continue;
    }
    const found = readdirSync(entry)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => path.join(entry, f));
    if (found.length === 0) throw new ConfigError(`--policy ${entry}: the directory holds no .yaml or .yml policy`);
    files.push(...found);
  }
  return files;
}

async function backtestFile(opts: BacktestCliOptions): Promise<RunInfo[]> {
  const cadenceMs = durationOption('--cadence', opts.cadence);
  const windowing = windowingOption(opts, cadenceMs);
  const decisionThreshold = thresholdOption(opts.decisionThreshold);
  const referenceMs = durationOption('--reference', opts.reference);
  const labelDelayMs = durationOption('--label-delay', opts.labelDelay, true);
  const ruleRevision = ruleRevisionOption(opts.ruleRevision);
  if (windowing.kind === 'duration' && referenceMs < cadenceMs)
    throw new ConfigError(
      `--reference ${opts.reference} is shorter than --cadence ${opts.cadence}: the reference needs at least one window`,
    );
  const policies: (LoadedPolicy & { file: string })[] = policyFiles(opts.policy).map((file) => ({
    file,
    ...loadPolicyFile(file),
  }));
  const shared = policies.length > 1 ? sharedCostModel(policies, opts) : null;
  const file = opts.data;
  const progress = new Progress(!opts.quiet, path.basename(file));

  const table = await readTableFile(file, { onProgress: (_f, n) => progress.reading(n) });
  const kind = kindOption(opts);
  if (kind !== 'binary') {
    try {
      return await backtestOutcomes(
        table,
        kind,
        opts,
        policies,
        shared,
        { cadenceMs, windowing, referenceMs, labelDelayMs, ruleRevision },
        progress,
      );
    } finally {
      progress.done();
    }
  }
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

  const runs: RunInfo[] = [];
  try {
    for (const { policy, file: policyFile } of policies) {
      progress.policy(policy.name);
      const report = await runBacktest({
        rows,
        numeric: columns.numeric,
        categorical: columns.categorical,
        hasPrediction: columns.prediction !== null,
        policy,
        cadenceMs,
        windowing,
        ...(decisionThreshold === null ? {} : { decisionThreshold }),
        referenceWindowMs: referenceMs,
        trainer: builtInTrainer(),
        costModel: shared ?? costModelOf(policy, opts),
        labelDelayMs,
        ...(ruleRevision === null ? {} : { settings: { ruleRevision } }),
        onWindow: (done) => progress.windows(done.windows, done.time, done.retrains),
      });
      runs.push({ report, file: policyFile });
    }
  } catch (err) {
    if (err instanceof BacktestInputError) throw new ValidationError(`${file}: ${err.message}`);
    throw err;
  } finally {
    progress.done();
  }
  return runs;
}

/** --kind as one of the three kinds; --classes only with multiclass. */
function kindOption(opts: BacktestCliOptions): 'binary' | 'multiclass' | 'regression' {
  const kind = opts.kind ?? 'binary';
  if (kind !== 'binary' && kind !== 'multiclass' && kind !== 'regression')
    throw new ConfigError(`--kind ${kind}: give binary, multiclass or regression`);
  if (opts.classes !== undefined && kind !== 'multiclass')
    throw new ConfigError(`--classes names a multiclass model's classes: pass --kind multiclass with it`);
  if (opts.decisionThreshold !== undefined && kind !== 'binary')
    throw new ConfigError(`--decision-threshold is a binary model's: a ${kind} model has none`);
  return kind;
}

/** A multiclass or regression history through the outcome engine, one run per policy. */
async function backtestOutcomes(
  table: RawTable,
  kind: 'multiclass' | 'regression',
  opts: BacktestCliOptions,
  policies: readonly (LoadedPolicy & { file: string })[],
  shared: BacktestCostModel | null,
  timing: {
    cadenceMs: number;
    windowing: BacktestWindowing;
    referenceMs: number;
    labelDelayMs: number;
    ruleRevision: MonitorSettings['ruleRevision'] | null;
  },
  progress: Progress,
): Promise<RunInfo[]> {
  const history = outcomeHistory(
    table,
    {
      kind,
      timestamp: opts.timestamp,
      label: opts.label,
      labelTime: opts.labelTime ?? null,
      ...(opts.prediction === undefined ? {} : { prediction: opts.prediction }),
      ...(opts.classes === undefined ? {} : { classes: opts.classes }),
      ...(opts.probabilityPrefix === undefined ? {} : { probabilityPrefix: opts.probabilityPrefix }),
      ...(opts.features === undefined ? {} : { features: opts.features }),
      ...(opts.categorical === undefined ? {} : { categorical: opts.categorical }),
    },
    parseTimestamp,
  );
  history.rows.sort((a, b) => a.time - b.time);
  const trainer =
    history.kind.kind === 'multiclass' ? builtInMulticlassTrainer(history.kind.classes) : builtInRegressionTrainer();
  const runs: RunInfo[] = [];
  try {
    for (const { policy, file: policyFile } of policies) {
      progress.policy(policy.name);
      const report = await runOutcomeBacktest({
        kind: history.kind,
        rows: history.rows,
        numeric: history.numeric,
        categorical: history.categorical,
        hasPrediction: history.hasPrediction,
        policy,
        cadenceMs: timing.cadenceMs,
        windowing: timing.windowing,
        referenceWindowMs: timing.referenceMs,
        trainer,
        costModel: shared ?? costModelOf(policy, opts),
        labelDelayMs: timing.labelDelayMs,
        ...(timing.ruleRevision === null ? {} : { settings: { ruleRevision: timing.ruleRevision } }),
        onWindow: (done) => progress.windows(done.windows, done.time, done.retrains),
      });
      runs.push({ report, file: policyFile });
    }
  } catch (err) {
    if (err instanceof BacktestInputError) throw new ValidationError(`${table.file}: ${err.message}`);
    throw err;
  }
  return runs;
}

/** One price for every policy of a comparison: the options, else the first cost-aware policy's. */
function sharedCostModel(policies: readonly LoadedPolicy[], opts: BacktestCliOptions): BacktestCostModel | null {
  const first = policies.find((p) => p.policy.trigger.kind === 'cost-aware');
  if (opts.valuePerQualityUnit !== undefined || opts.retrainCost !== undefined || first === undefined) {
    const priced = policies.map((p) => costModelOf(p.policy, opts));
    return priced.find((c) => c !== null) ?? null;
  }
  return costModelOf(first.policy, opts);
}

interface ResolvedColumns {
  timestamp: string;
  label: string;
  prediction: string | null;
  labelTime: string | null;
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
  const labelTime = opts.labelTime === undefined ? null : need(opts.labelTime, '--label-time');
  const prediction =
    opts.prediction === false
      ? null
      : opts.prediction !== undefined
        ? need(opts.prediction, '--prediction')
        : has.has('prediction')
          ? 'prediction'
          : null;
  const categorical = (commaList(opts.categorical) ?? []).map((c) => need(c, '--categorical'));
  const roles = new Set([timestamp, label, ...(prediction ? [prediction] : []), ...(labelTime ? [labelTime] : [])]);
  const features = (
    commaList(opts.features) ??
    header.filter((h) => !roles.has(h) && !(opts.prediction === false && h === 'prediction'))
  ).map((c) => need(c, '--features'));
  if (features.length === 0)
    throw new ValidationError(
      `${file}: no feature columns (the header has only ${header.join(', ')}); name them with --features`,
    );
  for (const c of categorical) if (!features.includes(c)) features.push(c);
  const role = features.find((f) => roles.has(f));
  if (role !== undefined)
    throw new ValidationError(
      `${file}: column "${role}" cannot be both a feature and the timestamp, label, label time or prediction`,
    );
  return {
    timestamp,
    label,
    prediction,
    labelTime,
    numeric: features.filter((f) => !categorical.includes(f)),
    categorical,
  };
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
  const labelTimes = columns.labelTime === null ? null : cells(columns.labelTime);
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

    let labelTime: number | null = null;
    if (labelTimes !== null && label !== null) {
      const raw = labelTimes[r] ?? '';
      labelTime = raw.trim() === '' ? null : parseTimestamp(raw);
      if (raw.trim() !== '' && labelTime === null)
        throw new ValidationError(
          `${at(r, columns.labelTime as string)}: cannot parse label time "${raw}" (expected ISO-8601 or epoch seconds or milliseconds; empty uses --label-delay)`,
        );
      if (labelTime !== null && labelTime < time)
        throw new ValidationError(
          `${at(r, columns.labelTime as string)}: the label arrives (${new Date(labelTime).toISOString()}) before its event (${new Date(time).toISOString()})`,
        );
    }

    const features: Record<string, number | string | null> = {};
    // Non-finite numbers count as missing, as the drift tests treat them.
    for (const [name, values] of numeric) features[name] = Number.isFinite(values[r]) ? (values[r] as number) : null;
    for (const [name, values] of categorical) features[name] = values[r] ?? null;
    rows[r] = { time, features, prediction, label, ...(labelTime === null ? {} : { labelTime }) };
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

/** How windows are cut: --window-rows, --window-period or (default) --cadence. */
export function windowingOption(
  opts: Pick<BacktestCliOptions, 'windowRows' | 'windowPeriod'>,
  cadenceMs: number,
): BacktestWindowing {
  if (opts.windowRows !== undefined && opts.windowPeriod !== undefined)
    throw new ConfigError(
      `--window-rows ${opts.windowRows} and --window-period ${opts.windowPeriod}: give one way to cut windows (or neither, for --cadence)`,
    );
  if (opts.windowRows !== undefined) {
    const rows = Number(opts.windowRows);
    if (!(Number.isInteger(rows) && rows >= 1))
      throw new ConfigError(
        `--window-rows ${opts.windowRows}: give a whole number of rows per window, at least 1 (e.g. --window-rows 5000)`,
      );
    return { kind: 'rows', rows };
  }
  if (opts.windowPeriod !== undefined) {
    if (!isCalendarPeriod(opts.windowPeriod))
      throw new ConfigError(
        `--window-period ${opts.windowPeriod}: give one of ${CALENDAR_PERIODS.join(', ')} (calendar periods in UTC; for another length use --cadence, e.g. --cadence 6h)`,
      );
    return { kind: 'period', period: opts.windowPeriod };
  }
  return { kind: 'duration', ms: cadenceMs };
}

/** --decision-threshold as a number in [0, 1]; null when not given. */
export function thresholdOption(text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!(text.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 1))
    throw new ConfigError(
      `--decision-threshold ${text}: give the score at or above which the model predicts positive, a number between 0 and 1 (e.g. 0.65)`,
    );
  return value;
}

/** --rule-revision as a revision of the cost-aware rule, or null (the default, DEFAULT_RULE_REVISION). */
export function ruleRevisionOption(text: string | undefined): MonitorSettings['ruleRevision'] | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!(text.trim() !== '' && Number.isInteger(value) && value >= 1 && value <= LATEST_RULE_REVISION))
    throw new ConfigError(
      `--rule-revision ${text}: give a revision of the cost-aware rule, a whole number from 1 to ${LATEST_RULE_REVISION} (the newest)`,
    );
  return value as MonitorSettings['ruleRevision'];
}

function durationOption(option: string, text: string, zeroAllowed = false): number {
  const ms = tryParseDuration(text);
  if (ms === null || ms < 0 || (ms === 0 && !zeroAllowed))
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

/** Progress on stderr, at most every two seconds and only once a run has lasted two seconds. */
class Progress {
  private last = Date.now();
  private printed = false;
  constructor(
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}
  policy(name: string): void {
    this.tick(() => `${this.label}: policy ${name}`);
  }
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

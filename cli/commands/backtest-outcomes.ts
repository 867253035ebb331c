/**
 * `halflife backtest --kind multiclass|regression`: the history's columns for these kinds, read
 * into the outcome engine's rows (detectors/backtest/outcome-types.ts). Every bad cell or
 * missing column is an error naming file, line, column and what would be right.
 *
 * - multiclass: one probability column per class, `<prefix><class>` (`--probability-prefix`,
 *   default `p_`), each a number in [0, 1], a row's summing to 1 within 0.001 (then scaled to 1);
 *   the label column holds the class name. Classes: `--classes`, else the probability columns'
 *   suffixes in header order, else (with `--no-prediction`) the labels seen, sorted.
 * - regression: the prediction column (`--prediction`, default `prediction`) and the label column
 *   hold numbers.
 */
import type { OutcomeBacktestRow } from '../../detectors/backtest/outcome-types.ts';
import type { OutcomeKind } from '../../detectors/quality/outcome-sums.ts';
import { ValidationError } from '../../platform/errors.ts';
import {
  categoricalColumn,
  detectKinds,
  numericColumn,
  parseNumericCell,
  type RawTable,
} from '../../platform/tabular.ts';
import { commaList } from '../option-values.ts';

/** A row's probabilities may miss 1 by this much (files round); they are then scaled to sum to 1. */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;
const MISSING_LABEL = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '<na>']);

export interface OutcomeColumnOptions {
  kind: 'multiclass' | 'regression';
  timestamp: string;
  label: string;
  labelTime: string | null;
  /** A column name, `false` from --no-prediction, or undefined. */
  prediction?: string | false;
  classes?: string;
  /** @default "p_" */
  probabilityPrefix?: string;
  features?: string;
  categorical?: string;
}

export interface OutcomeHistory {
  kind: OutcomeKind;
  rows: OutcomeBacktestRow[];
  numeric: string[];
  categorical: string[];
  hasPrediction: boolean;
  /** The columns read as the prediction (one per class for multiclass). */
  predictionColumns: string[];
}

/** The rows of a multiclass or regression history; `parseTime` reads a timestamp cell (null when unreadable). */
export function outcomeHistory(
  table: RawTable,
  options: OutcomeColumnOptions,
  parseTime: (text: string) => number | null,
): OutcomeHistory {
  const file = table.file;
  const header = table.columns;
  const has = new Set(header);
  const need = (column: string, option: string): string => {
    if (!has.has(column))
      throw new ValidationError(`${file}: no column "${column}" (${option}); the header has: ${header.join(', ')}`);
    return column;
  };
  const timestamp = need(options.timestamp, '--timestamp');
  const label = need(options.label, '--label');
  const labelTime = options.labelTime === null ? null : need(options.labelTime, '--label-time');
  const cells = (name: string): string[] => table.cells[header.indexOf(name)] ?? [];
  const labels = cells(label);

  // The prediction's columns and, for multiclass, the classes.
  let kind: OutcomeKind;
  let predictionColumns: string[] = [];
  if (options.kind === 'regression') {
    kind = { kind: 'regression' };
    if (options.prediction !== false) {
      const column = options.prediction ?? (has.has('prediction') ? 'prediction' : null);
      if (column !== null) predictionColumns = [need(column, '--prediction')];
    }
  } else {
    const prefix = options.probabilityPrefix ?? 'p_';
    const named = commaList(options.classes);
    const fromColumns = header.filter((h) => h.startsWith(prefix) && h.length > prefix.length);
    let classes = named ?? fromColumns.map((h) => h.slice(prefix.length));
    if (classes.length === 0)
      classes = [...new Set(labels.map((l) => l.trim()).filter((l) => !MISSING_LABEL.has(l.toLowerCase())))].sort();
    if (classes.length < 2)
      throw new ValidationError(
        `${file}: a multiclass history needs at least 2 classes (found ${classes.length}); name them with --classes a,b,c or give one probability column per class named ${prefix}<class>`,
      );
    kind = { kind: 'multiclass', classes };
    // Every class's column, or none (the first model is then trained on the reference period).
    const wanted = options.prediction === false ? [] : classes.map((c) => `${prefix}${c}`);
    const missing = wanted.filter((c) => !has.has(c));
    if (missing.length > 0 && missing.length < wanted.length)
      throw new ValidationError(
        `${file}: no probability column for ${missing.map((m) => `class "${m.slice(prefix.length)}" (column "${m}")`).join(', ')}; a multiclass history has one column ${prefix}<class> per class (--probability-prefix), or none. The header has: ${header.join(', ')}`,
      );
    predictionColumns = missing.length === 0 ? wanted : [];
  }

  // Features: every other column unless named; categorical by --categorical or by content.
  const roles = new Set([timestamp, label, ...(labelTime ? [labelTime] : []), ...predictionColumns]);
  const categoricalNamed = (commaList(options.categorical) ?? []).map((c) => need(c, '--categorical'));
  const features = (
    commaList(options.features) ??
    header.filter(
      (h) =>
        !roles.has(h) &&
        !(
          options.prediction === false &&
          (h === 'prediction' || (options.kind === 'multiclass' && h.startsWith(options.probabilityPrefix ?? 'p_')))
        ),
    )
  ).map((c) => need(c, '--features'));
  for (const c of categoricalNamed) if (!features.includes(c)) features.push(c);
  const role = features.find((f) => roles.has(f));
  if (role !== undefined)
    throw new ValidationError(
      `${file}: column "${role}" cannot be both a feature and the timestamp, label, label time or prediction`,
    );
  if (features.length === 0)
    throw new ValidationError(
      `${file}: no feature columns (the header has only ${header.join(', ')}); name them with --features`,
    );
  const kinds = detectKinds([table], features, { categorical: categoricalNamed });
  const numeric = [...kinds].filter(([, k]) => k === 'numeric').map(([n]) => n);
  const categorical = [...kinds].filter(([, k]) => k === 'categorical').map(([n]) => n);

  const at = (r: number, column: string): string => `${file}, line ${table.lines[r]}, column "${column}"`;
  const numericValues = numeric.map((name) => [name, numericColumn(table, name)] as const);
  const categoricalValues = categorical.map((name) => [name, categoricalColumn(table, name)] as const);
  const times = cells(timestamp);
  const predictionCells = predictionColumns.map(cells);
  const labelTimes = labelTime === null ? null : cells(labelTime);
  const rows: OutcomeBacktestRow[] = new Array<OutcomeBacktestRow>(times.length);
  for (let r = 0; r < times.length; r++) {
    const time = parseTime(times[r] ?? '');
    if (time === null)
      throw new ValidationError(
        `${at(r, timestamp)}: cannot parse timestamp "${times[r] ?? ''}" (expected ISO-8601 like 2026-01-31T12:00:00Z, or epoch seconds or milliseconds)`,
      );

    const rawLabel = (labels[r] ?? '').trim();
    let y: number | null = null;
    if (!MISSING_LABEL.has(rawLabel.toLowerCase())) {
      if (kind.kind === 'multiclass') {
        y = kind.classes.indexOf(rawLabel);
        if (y < 0)
          throw new ValidationError(
            `${at(r, label)}: label "${rawLabel}" is not one of the classes ${kind.classes.join(', ')} (empty means not labelled)`,
          );
      } else {
        const v = parseNumericCell(rawLabel);
        if (v === undefined || v === null || !Number.isFinite(v))
          throw new ValidationError(
            `${at(r, label)}: label "${rawLabel}" is not a number (a regression history's label is the true value; empty means not labelled)`,
          );
        y = v;
      }
    }

    let prediction: OutcomeBacktestRow['prediction'] = null;
    if (kind.kind === 'regression' && predictionCells.length === 1) {
      const raw = (predictionCells[0]![r] ?? '').trim();
      const v = parseNumericCell(raw);
      if (v === undefined || v === null || !Number.isFinite(v))
        throw new ValidationError(
          `${at(r, predictionColumns[0]!)}: prediction "${raw}" is not a number (or pass --no-prediction to train the first model instead)`,
        );
      prediction = v;
    } else if (kind.kind === 'multiclass' && predictionCells.length > 0) {
      const p = predictionCells.map((column, k) => {
        const raw = (column[r] ?? '').trim();
        const v = parseNumericCell(raw);
        if (v === undefined || v === null || !(v >= 0 && v <= 1))
          throw new ValidationError(
            `${at(r, predictionColumns[k]!)}: probability "${raw}" is not a number in [0, 1] (one column per class; or pass --no-prediction to train the first model instead)`,
          );
        return v;
      });
      const sum = p.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE)
        throw new ValidationError(
          `${file}, line ${table.lines[r]}: the class probabilities (${predictionColumns.join(', ')}) sum to ${Number(sum.toPrecision(6))}, not 1 (within ${PROBABILITY_SUM_TOLERANCE}): give the model's softmax output`,
        );
      prediction = p.map((v) => v / sum);
    }

    let arrival: number | null = null;
    if (labelTimes !== null && y !== null) {
      const raw = labelTimes[r] ?? '';
      arrival = raw.trim() === '' ? null : parseTime(raw);
      if (raw.trim() !== '' && arrival === null)
        throw new ValidationError(
          `${at(r, labelTime as string)}: cannot parse label time "${raw}" (expected ISO-8601 or epoch seconds or milliseconds; empty uses --label-delay)`,
        );
      if (arrival !== null && arrival < time)
        throw new ValidationError(`${at(r, labelTime as string)}: the label arrives before its event`);
    }

    const values: Record<string, number | string | null> = {};
    for (const [name, column] of numericValues)
      values[name] = Number.isFinite(column[r]) ? (column[r] as number) : null;
    for (const [name, column] of categoricalValues) values[name] = column[r] ?? null;
    rows[r] = { time, features: values, prediction, label: y, ...(arrival === null ? {} : { labelTime: arrival }) };
  }
  return { kind, rows, numeric, categorical, hasPrediction: predictionColumns.length > 0, predictionColumns };
}

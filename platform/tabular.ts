/**
 * Tabular files for `halflife drift`: read a CSV into columns and decide each column's kind.
 *
 * Rules (the CLI documents them):
 *  - the first record is the header; names must be non-empty and unique;
 *  - every record has as many cells as the header, else an error naming file and line;
 *  - an empty cell is missing; in a numeric column so are NA, N/A, n/a, NaN, nan, null,
 *    NULL, None and <NA> (pandas' usual spellings), and ±inf/infinity is a non-finite number,
 *    which the drift tests also count as missing;
 *  - a column is numeric when most of its non-empty cells, over both files, are numbers,
 *    unless it is listed as categorical. In a numeric column any other text is an error
 *    naming file, line and column (it is a data bug, or the column should be categorical:
 *    the message says how to say so);
 *  - both files must have the same columns (order may differ), or hold every column asked for.
 * Cells are kept as strings until the kinds are known; memory is O(rows × columns).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { FeatureKind } from '../detectors/drift/feature-result.ts';
import { ValidationError } from './errors.ts';

/** A CSV file read into string columns. */
export interface RawTable {
  file: string;
  columns: string[];
  /** cells[c][r]: column c, data row r. */
  cells: string[][];
  /** Source line of each data row (1 = the header line). */
  lines: number[];
}

export interface ReadOptions {
  /** Called every `progressEvery` rows. */
  onProgress?: (file: string, rows: number) => void;
  /** @default 250000 */
  progressEvery?: number;
}

/** Read a CSV file. Throws ValidationError (exit code 3) for a missing, empty or malformed file. */
export async function readCsv(file: string, options: ReadOptions = {}): Promise<RawTable> {
  if (!existsSync(file)) throw new ValidationError(`${file}: file not found`);
  if (!statSync(file).isFile()) throw new ValidationError(`${file}: not a regular file`);
  const every = options.progressEvery ?? 250_000;
  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, trim: false }),
  );
  let columns: string[] | undefined;
  let cells: string[][] = [];
  const lines: number[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      if (!columns) {
        columns = record.map((c) => c.trim());
        const seen = new Set<string>();
        columns.forEach((name, i) => {
          if (name === '') throw new ValidationError(`${file}: line ${info.lines}: header column ${i + 1} has no name`);
          if (seen.has(name))
            throw new ValidationError(`${file}: line ${info.lines}: column "${name}" appears twice in the header`);
          seen.add(name);
        });
        cells = columns.map(() => []);
        continue;
      }
      if (record.length !== columns.length) {
        throw new ValidationError(
          `${file}: line ${info.lines}: ${record.length} cells, but the header has ${columns.length} columns`,
        );
      }
      for (let c = 0; c < record.length; c++) cells[c]!.push(record[c] ?? '');
      lines.push(info.lines);
      if (options.onProgress && lines.length % every === 0) options.onProgress(file, lines.length);
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    const e = err as Error & { lines?: number };
    throw new ValidationError(
      `${file}: ${e.lines !== undefined ? `line ${e.lines}: ` : ''}not valid CSV (${e.message})`,
    );
  }
  if (!columns) throw new ValidationError(`${file}: the file is empty (expected a header line and data rows)`);
  if (lines.length === 0) throw new ValidationError(`${file}: no data rows after the header`);
  return { file, columns, cells, lines };
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;
const NA_TOKENS = new Set(['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', '-NaN', 'null', 'NULL', 'None', '<NA>']);

/** A cell as a number: a number, null for a missing marker, undefined for text. */
export function parseNumericCell(cell: string): number | null | undefined {
  const t = cell.trim();
  if (NA_TOKENS.has(t)) return null;
  if (NUMBER.test(t)) return Number(t);
  const inf = INFINITY.exec(t);
  if (inf) return inf[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return undefined;
}

export interface KindOptions {
  /** Columns forced categorical. @default [] */
  categorical?: readonly string[];
}

/** Decide numeric vs categorical per column from both files (majority of non-empty cells). */
export function detectKinds(
  tables: readonly RawTable[],
  columns: readonly string[],
  options: KindOptions = {},
): Map<string, FeatureKind> {
  const forced = new Set(options.categorical ?? []);
  const kinds = new Map<string, FeatureKind>();
  for (const name of columns) {
    if (forced.has(name)) {
      kinds.set(name, 'categorical');
      continue;
    }
    let numbers = 0;
    let text = 0;
    for (const table of tables) {
      const column = table.cells[table.columns.indexOf(name)] ?? [];
      for (const cell of column) {
        const t = cell.trim();
        if (t === '') continue;
        const v = parseNumericCell(t);
        if (v === undefined) text++;
        else if (v !== null) numbers++;
      }
    }
    kinds.set(name, numbers > 0 && numbers > text ? 'numeric' : 'categorical');
  }
  return kinds;
}

/** Pick the columns to compare: `wanted`, or all; both files must have them. */
export function selectColumns(reference: RawTable, current: RawTable, wanted?: readonly string[]): string[] {
  if (wanted && wanted.length > 0) {
    for (const table of [reference, current]) {
      const missing = wanted.filter((c) => !table.columns.includes(c));
      if (missing.length > 0)
        throw new ValidationError(
          `${table.file}: no column ${missing.map((m) => `"${m}"`).join(', ')} (it has: ${table.columns.join(', ')})`,
        );
    }
    return [...wanted];
  }
  const onlyReference = reference.columns.filter((c) => !current.columns.includes(c));
  const onlyCurrent = current.columns.filter((c) => !reference.columns.includes(c));
  if (onlyReference.length > 0 || onlyCurrent.length > 0) {
    const parts: string[] = [];
    if (onlyReference.length > 0)
      parts.push(`${current.file} lacks column ${onlyReference.map((c) => `"${c}"`).join(', ')} of ${reference.file}`);
    if (onlyCurrent.length > 0)
      parts.push(`${reference.file} lacks column ${onlyCurrent.map((c) => `"${c}"`).join(', ')} of ${current.file}`);
    throw new ValidationError(
      `the files have different columns: ${parts.join('; ')} (use --columns to compare the shared ones)`,
    );
  }
  return [...reference.columns];
}

/** A numeric column as numbers (null = missing). Text is an error naming file, line and column. */
export function numericColumn(table: RawTable, name: string): (number | null)[] {
  const column = table.cells[table.columns.indexOf(name)] ?? [];
  const out = new Array<number | null>(column.length);
  for (let r = 0; r < column.length; r++) {
    const cell = column[r] ?? '';
    const v = parseNumericCell(cell);
    if (v === undefined) {
      throw new ValidationError(
        `${table.file}: line ${table.lines[r]}, column "${name}": "${cell.length > 40 ? `${cell.slice(0, 40)}…` : cell}" is not a number, in a numeric column (pass --categorical ${name} to compare it as categories)`,
      );
    }
    out[r] = v;
  }
  return out;
}

/** A categorical column (null = empty cell). */
export function categoricalColumn(table: RawTable, name: string): (string | null)[] {
  const column = table.cells[table.columns.indexOf(name)] ?? [];
  return column.map((cell) => (cell.trim() === '' ? null : cell));
}

/** A cell as a vector (a JSON array of numbers, as a CSV cell or a Parquet list column gives it); null when it is not one. */
export function parseVectorCell(cell: string): number[] | null {
  const t = cell.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return null;
  const out: number[] = [];
  for (const v of parsed) {
    // 64-bit integers come quoted from Parquet; NaN/±Inf as their names.
    const x = typeof v === 'number' ? v : typeof v === 'string' ? parseNumericCell(v) : undefined;
    if (typeof x !== 'number') return null;
    out.push(x);
  }
  return out;
}

/**
 * The vector columns among `columns`: those whose every non-empty cell, in every table, is a JSON
 * array of numbers (`[0.1, -0.3, …]` in a CSV cell, a list column in Parquet), with their
 * dimension. Throws ValidationError naming file, line and column when such a column's arrays
 * differ in length, or hold a value that is not a finite number.
 */
export function detectVectorColumns(tables: readonly RawTable[], columns: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of columns) {
    let dimension = 0;
    let isVector = true;
    let seen = 0;
    for (const table of tables) {
      const column = table.cells[table.columns.indexOf(name)] ?? [];
      for (let r = 0; r < column.length && isVector; r++) {
        const cell = (column[r] ?? '').trim();
        if (cell === '') continue;
        const v = parseVectorCell(cell);
        if (!v) {
          isVector = false;
          break;
        }
        seen++;
        if (dimension === 0) dimension = v.length;
        const where = `${table.file}: line ${table.lines[r]}: column "${name}"`;
        if (v.length !== dimension)
          throw new ValidationError(
            `${where}: a vector of ${v.length} numbers where earlier rows have ${dimension}: every row of a vector column has the same dimension (leave the cell empty when the vector is missing)`,
          );
        const bad = v.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0)
          throw new ValidationError(
            `${where}: element ${bad} of the vector is ${v[bad]}: every element must be a finite number (leave the cell empty when the vector is missing)`,
          );
      }
      if (!isVector) break;
    }
    if (isVector && seen > 0) out.set(name, dimension);
  }
  return out;
}

/** A vector column's values (null where the cell is empty). */
export function vectorColumn(table: RawTable, name: string): (number[] | null)[] {
  const column = table.cells[table.columns.indexOf(name)] ?? [];
  return column.map((cell) => (cell.trim() === '' ? null : parseVectorCell(cell)));
}

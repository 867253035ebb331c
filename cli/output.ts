import { HalflifeError } from '../platform/errors.ts';

/** Print a value for scripts (`--json`) or people (a text rendering). */
export function emit(json: boolean, value: unknown, render: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${render()}\n`);
}

export interface TableOptions {
  /**
   * Columns (by index) whose text wraps at spaces instead of widening the table past `width`;
   * nothing is ever cut. @default [] (no wrapping)
   */
  wrap?: number[];
  /** Width to fit, in characters. @default terminalWidth() */
  width?: number | null;
}

/** The terminal's width when stdout is one, else null (piped output is not wrapped). */
export function terminalWidth(): number | null {
  return process.stdout.isTTY ? (process.stdout.columns ?? 100) : null;
}

/** Narrowest a wrapped column gets, however wide the others are. */
const MIN_WRAP_WIDTH = 30;

/**
 * A plain-text table with aligned columns. With `wrap`, long cells of those columns continue on
 * the following lines (the other columns left blank there), so a reason is shown whole.
 */
export function table(
  headers: string[],
  rows: (string | number | boolean | undefined | null)[][],
  options: TableOptions = {},
): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const wrap = options.wrap ?? [];
  const width = options.width === undefined ? terminalWidth() : options.width;
  if (width !== null && wrap.length > 0) {
    const fixed = widths.reduce((s, w, i) => (wrap.includes(i) ? s : s + w), 0) + 2 * (headers.length - 1);
    const each = Math.max(MIN_WRAP_WIDTH, Math.floor((width - fixed) / wrap.length));
    for (const i of wrap) widths[i] = Math.min(widths[i] ?? 0, each);
  }
  const lines: string[] = [];
  for (const row of cells) {
    const parts = row.map((c, i) => (wrap.includes(i) ? wrapText(c, widths[i] ?? c.length) : [c]));
    const height = Math.max(...parts.map((p) => p.length));
    for (let k = 0; k < height; k++)
      lines.push(
        parts
          .map((p, i) => (p[k] ?? '').padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
  }
  return lines.join('\n');
}

/** Break `text` at spaces into lines of at most `width` characters (a longer word keeps its own line). */
export function wrapText(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * Exit codes (documented in the README): 0 ok; 1 failure; 2 bad configuration or usage;
 * 3 invalid input; 4 a dependency (service, program) missing or unreachable; 5 not found.
 */
export function fail(err: unknown, json: boolean): never {
  const code = err instanceof HalflifeError ? err.exitCode : 1;
  const message = err instanceof Error ? err.message : String(err);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ error: { kind: err instanceof Error ? err.name : 'Error', message } })}\n`,
    );
  process.stderr.write(`halflife: ${message}\n`);
  process.exit(code);
}

import { HalflifeError } from '../platform/errors.ts';

/** Print a value for scripts (`--json`) or people (a text rendering). */
export function emit(json: boolean, value: unknown, render: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${render()}\n`);
}

/** A plain-text table with aligned columns. */
export function table(headers: string[], rows: (string | number | boolean | undefined | null)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
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

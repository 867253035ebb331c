import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchChdb } from '../helpers/chdb-scratch.ts';

/**
 * `halflife backtest --data history.parquet` run as users run it (the real binary in a child
 * process): the committed CSV fixtures written as Parquet by ClickHouse — typed columns, the
 * timestamp a DateTime64 in UTC — give exactly the CSV run's report, for every kind.
 */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const binary = (name: string): string => path.join(root, 'test/fixtures/backtest', name);
const kinds = (name: string): string => path.join(root, 'test/fixtures/backtest-kinds', name);

async function halflife(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/halflife.mjs', 'backtest', ...args], {
      cwd: root,
      env: { ...process.env, HALFLIFE_CONFIG: '', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The report without the file it names. */
function report(stdout: string): unknown {
  const { data: _data, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
  return rest;
}

describe('halflife backtest on Parquet histories', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-backtest-parquet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const chdb = scratchChdb();
  /** The CSV as Parquet: `select` picks (and may retype) its columns. */
  const parquet = (csv: string, name: string, select = '*'): string => {
    const out = path.join(dir, name);
    chdb.queryBind(
      `INSERT INTO FUNCTION file({out:String}, Parquet) SELECT ${select} FROM file({csv:String}, CSVWithNames) SETTINGS engine_file_truncate_on_insert = 1`,
      { out, csv },
    );
    return out;
  };
  const columnsOf = (file: string): Record<string, string> =>
    Object.fromEntries(
      chdb
        .queryBind('DESCRIBE file({file:String}, Parquet) FORMAT JSONEachRow', { file })
        .trim()
        .split('\n')
        .map((line) => {
          const { name, type } = JSON.parse(line) as { name: string; type: string };
          return [name, type];
        }),
    );

  it.each([
    {
      kind: 'binary',
      csv: binary('sea-abrupt.csv'),
      args: ['--policy', binary('cost-aware.yaml'), '--cadence', '6h', '--reference', '1d', '--label-delay', '2h'],
    },
    {
      kind: 'multiclass',
      csv: kinds('multiclass-shift.csv'),
      args: ['--kind', 'multiclass', '--policy', kinds('multiclass-cost-aware.yaml'), '--cadence', '12h'],
    },
    {
      kind: 'regression',
      csv: kinds('regression-shift.csv'),
      args: ['--kind', 'regression', '--policy', kinds('regression-cost-aware.yaml'), '--cadence', '12h'],
    },
  ])('a $kind history gives the CSV run’s report, whatever the time zone', async ({ kind, csv, args }) => {
    const file = parquet(csv, `${kind}.parquet`);
    // Typed as ClickHouse infers the CSV: a UTC timestamp, numbers as numbers.
    expect(columnsOf(file).timestamp).toMatch(/DateTime64\(\d, 'UTC'\)/);
    const [fromCsv, fromParquet] = await Promise.all([
      halflife(['--data', csv, ...args, '--json', '--quiet']),
      // A timestamp without a zone would read as local time: the Parquet instants must not.
      halflife(['--data', file, ...args, '--json', '--quiet'], { TZ: 'America/New_York' }),
    ]);
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    expect(fromParquet.code, fromParquet.stderr).toBe(0);
    expect(fromParquet.stderr).toBe('');
    const parsed = report(fromParquet.stdout) as { rows: number; decisions: unknown[] };
    expect(parsed.rows).toBeGreaterThan(1000);
    expect(parsed.decisions.length).toBeGreaterThan(0);
    expect(parsed).toEqual(report(fromCsv.stdout));
  });

  it('names a missing column, a mistyped one and a file that is not Parquet, with the fix', async () => {
    const policy = ['--policy', binary('cost-aware.yaml'), '--cadence', '6h'];
    const noLabel = parquet(binary('sea-abrupt.csv'), 'no-label.parquet', '* EXCEPT label');
    const textScores = parquet(
      binary('sea-abrupt.csv'),
      'text-scores.parquet',
      "* REPLACE (if(prediction > 0.5, 'high', 'low') AS prediction)",
    );
    const fake = path.join(dir, 'not-really.parquet');
    chdb.queryBind(
      'INSERT INTO FUNCTION file({out:String}, CSVWithNames) SELECT 1 AS a SETTINGS engine_file_truncate_on_insert = 1',
      { out: fake },
    );
    const [missing, mistyped, notParquet] = await Promise.all([
      halflife(['--data', noLabel, ...policy]),
      halflife(['--data', textScores, ...policy]),
      halflife(['--data', fake, ...policy]),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(
      'no-label.parquet: no column "label" (--label); the header has: timestamp, x1, x2, x3, segment, prediction',
    );
    expect(mistyped.code).toBe(3);
    expect(mistyped.stderr).toMatch(
      /text-scores\.parquet, line 2, column "prediction": score "(high|low)" is not a probability in \[0, 1\] \(or pass --no-prediction/,
    );
    expect(notParquet.code).toBe(3);
    expect(notParquet.stderr).toMatch(/not-really\.parquet: not a readable Parquet file/);
  });
});

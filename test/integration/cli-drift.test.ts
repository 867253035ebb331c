import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import type { DriftOutput } from '../../operations/drift-of-files.ts';
import { scratchChdb } from '../helpers/chdb-scratch.ts';

/** `halflife drift` run as users run it: the real binary in a child process, on committed CSV fixtures. */
const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const fixture = (name: string): string => path.join('test/fixtures/csv', name);

async function halflife(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/halflife.mjs', 'drift', ...args], {
      cwd: root,
      env: { ...process.env, HALFLIFE_CONFIG: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('halflife drift (CLI on CSV files)', () => {
  const chdb = scratchChdb();
  it('prints a readable table and the dataset verdict', async () => {
    const { code, stdout } = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('current-drifted.csv'),
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^column\s+kind\s+n_ref\s+n_cur/);
    expect(stdout).toMatch(/^age\s+numeric\s+400\s+300\s+ks\b.*DRIFT$/m);
    expect(stdout).toMatch(/^segment\s+categorical\s+400\s+300\s+chi2\b.*DRIFT$/m);
    expect(stdout).toMatch(/dataset drift: YES \(2 of 4 tested columns drifted\)/);
  });

  it('prints the drift report JSON contract, numeric columns detected automatically', async () => {
    const { code, stdout } = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('current-drifted.csv'),
      '--json',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as DriftOutput;
    expect(Object.keys(out).sort()).toEqual(['dataset_drift', 'features']);
    expect(out.dataset_drift).toBe(true);
    const byName = new Map(out.features.map((f) => [f.name, f]));
    expect([...byName.keys()]).toEqual(['age', 'income', 'segment', 'score']);
    const age = byName.get('age')!;
    expect(age).toMatchObject({ kind: 'numeric', n_reference: 400, n_current: 300, drifted: true });
    for (const key of ['ks', 'wasserstein', 'psi', 'jensen_shannon', 'hellinger', 'pvalue_adjusted'])
      expect(age).toHaveProperty(key);
    expect(Object.keys(age.ks!).sort()).toEqual(['pvalue', 'statistic']);
    expect(Object.keys(age.wasserstein!).sort()).toEqual(['distance', 'normalized']);
    expect(age.chi2).toBeUndefined();
    // Empty cells are missing, not zeros.
    expect(byName.get('income')).toMatchObject({ kind: 'numeric', n_reference: 390, missing_reference: 10 });
    const segment = byName.get('segment')!;
    expect(segment).toMatchObject({ kind: 'categorical', drifted: true, unseen_categories: ['d'] });
    for (const key of ['chi2', 'psi', 'jensen_shannon', 'linf']) expect(segment).toHaveProperty(key);
    expect(Object.keys(segment.chi2!).sort()).toEqual(['dof', 'pvalue', 'statistic']);
    expect(segment.ks).toBeUndefined();
  });

  it('does not call a stable sample drifted', async () => {
    const { code, stdout } = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('current-stable.csv'),
      '--json',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as DriftOutput;
    expect(out.dataset_drift).toBe(false);
    expect(out.features.filter((f) => f.drifted)).toEqual([]);
  });

  it('honours --categorical, --columns and --bins, and matches columns by name, not position', async () => {
    const { code, stdout } = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('reordered.csv'),
      '--json',
      '--columns',
      'age,segment',
      '--categorical',
      'age',
      '--bins',
      '5',
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as DriftOutput;
    expect(out.features.map((f) => [f.name, f.kind])).toEqual([
      ['age', 'categorical'],
      ['segment', 'categorical'],
    ]);
    expect(out.features[1]?.n_current).toBe(50);
  });

  it('gives the same verdicts with --engine clickhouse (binned KS in embedded ClickHouse)', async () => {
    const memory = JSON.parse(
      (await halflife('--reference', fixture('reference.csv'), '--current', fixture('current-drifted.csv'), '--json'))
        .stdout,
    ) as DriftOutput;
    const sql = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('current-drifted.csv'),
      '--json',
      '--engine',
      'clickhouse',
    );
    expect(sql.code).toBe(0);
    const out = JSON.parse(sql.stdout) as DriftOutput;
    expect(out.features.map((f) => f.name)).toEqual(memory.features.map((f) => f.name));
    expect(out.features.map((f) => f.drifted)).toEqual(memory.features.map((f) => f.drifted));
    expect(out.features.find((f) => f.name === 'age')?.test).toBe('ks_binned');
    // PSI and JS use the same reference-quantile bins on both paths.
    for (const f of out.features) {
      const m = memory.features.find((x) => x.name === f.name)!;
      expect(f.psi).toBeCloseTo(m.psi!, 10);
      expect(f.jensen_shannon).toBeCloseTo(m.jensen_shannon!, 10);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['a missing file', ['--current', fixture('nope.csv')], /nope\.csv: file not found/],
    ['an empty file', ['--current', fixture('empty.csv')], /empty\.csv: the file is empty/],
    ['a header without rows', ['--current', fixture('header-only.csv')], /header-only\.csv: no data rows/],
    [
      'a row with too few cells',
      ['--current', fixture('ragged.csv')],
      /ragged\.csv: line 11: 3 cells, but the header has 4 columns/,
    ],
    [
      'mismatched columns',
      ['--current', fixture('missing-column.csv')],
      /missing-column\.csv lacks column "score" of .*reference\.csv/,
    ],
    [
      'text in a numeric column',
      ['--current', fixture('text-in-numeric.csv')],
      /text-in-numeric\.csv: line 18, column "income": "lots" is not a number.*--categorical income/,
    ],
    [
      'an unknown --columns name',
      ['--current', fixture('current-stable.csv'), '--columns', 'age,height'],
      /reference\.csv: no column "height"/,
    ],
    [
      'an unknown --categorical name',
      ['--current', fixture('current-stable.csv'), '--categorical', 'height'],
      /--categorical names column "height"/,
    ],
    ['a bad --bins', ['--current', fixture('current-stable.csv'), '--bins', '0'], /--bins must be an integer/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with exit code 3 and a message naming it`, async () => {
      const { code, stderr } = await halflife('--reference', fixture('reference.csv'), ...args);
      expect(code).toBe(3);
      expect(stderr).toMatch(message);
    });
  }

  describe('Parquet input', () => {
    // The CSV fixtures written as Parquet by ClickHouse (typed columns: Nullable Int64/Float64/String).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-parquet-'));
    const parquet = (name: string): string => {
      const out = path.join(dir, name.replace(/\.csv$/, '.parquet'));
      chdb.queryBind(
        'INSERT INTO FUNCTION file({out:String}, Parquet) SELECT * FROM file({csv:String}, CSVWithNames) SETTINGS engine_file_truncate_on_insert = 1',
        { out, csv: path.join(root, fixture(name)) },
      );
      return out;
    };
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('gives exactly the CSV report from Parquet files, with either engine and mixed with CSV', async () => {
      const reference = parquet('reference.csv');
      const current = parquet('current-drifted.csv');
      for (const engine of ['memory', 'clickhouse']) {
        const fromCsv = await halflife(
          '--reference',
          fixture('reference.csv'),
          '--current',
          fixture('current-drifted.csv'),
          '--json',
          '--engine',
          engine,
        );
        const fromParquet = await halflife(
          '--reference',
          reference,
          '--current',
          current,
          '--json',
          '--engine',
          engine,
        );
        const mixed = await halflife(
          '--reference',
          reference,
          '--current',
          fixture('current-drifted.csv'),
          '--json',
          '--engine',
          engine,
        );
        expect(fromParquet.code, fromParquet.stderr).toBe(0);
        expect(JSON.parse(fromParquet.stdout)).toEqual(JSON.parse(fromCsv.stdout));
        expect(JSON.parse(mixed.stdout)).toEqual(JSON.parse(fromCsv.stdout));
      }
    });

    it('rejects a file that is not Parquet, and text in a numeric column, naming the file', async () => {
      const fake = path.join(dir, 'not-really.parquet');
      copyFileSync(path.join(root, fixture('reference.csv')), fake);
      const notParquet = await halflife('--reference', fixture('reference.csv'), '--current', fake);
      expect(notParquet.code).toBe(3);
      expect(notParquet.stderr).toMatch(/not-really\.parquet: not a readable Parquet file/);
      const text = await halflife('--reference', fixture('reference.csv'), '--current', parquet('text-in-numeric.csv'));
      expect(text.code).toBe(3);
      expect(text.stderr).toMatch(/text-in-numeric\.parquet: line 18, column "income": "lots" is not a number/);
    });
  });

  it('accepts text in a numeric-looking column once it is declared categorical', async () => {
    const { code } = await halflife(
      '--reference',
      fixture('reference.csv'),
      '--current',
      fixture('text-in-numeric.csv'),
      '--categorical',
      'income',
    );
    expect(code).toBe(0);
  });

  describe('--segment', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-segments-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** Rows of four countries; with `shiftDE` only DE's x moves. Seeded. */
    const csv = (name: string, rows: number, seed: number, shiftDE: boolean): string => {
      const random = new Random(seed);
      const lines = ['country,x,z'];
      for (let i = 0; i < rows; i++) {
        const country = ['DE', 'FR', 'US', 'DE', 'FR', 'US', 'IT'][i % 7]!;
        const x = random.normal(shiftDE && country === 'DE' ? 1 : 0, 1);
        lines.push(`${country},${x.toFixed(4)},${random.normal(0, 1).toFixed(4)}`);
      }
      const file = path.join(dir, name);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    };

    it('names the one segment that drifted, BH across segments × columns, with the clickhouse engine by default', async () => {
      const reference = csv('reference.csv', 6000, 1, false);
      const current = csv('current.csv', 3000, 2, true);
      const json = await halflife(
        '--reference',
        reference,
        '--current',
        current,
        '--segment',
        'country',
        '--top-k',
        '3',
        '--json',
      );
      expect(json.code, json.stderr).toBe(0);
      const out = JSON.parse(json.stdout) as DriftOutput;
      expect(out.features.map((f) => f.name)).toEqual(['country', 'x', 'z']);
      const segments = out.segments!;
      expect(segments.segments.map((s) => s.segment)).toEqual([
        'country=DE',
        'country=FR',
        'country=US',
        'country=__other__',
      ]);
      expect(segments.drifted).toEqual(['country=DE']);
      expect(segments.segments[0]!.drift!.drifted).toEqual(['x']);
      // x and z in each of four segments (a segment's own key is one value within it).
      expect(segments.multipleTesting.tests).toBe(8);
      const text = await halflife(
        '--reference',
        reference,
        '--current',
        current,
        '--segment',
        'country',
        '--top-k',
        '3',
      );
      expect(text.stdout).toMatch(/^country=DE\s+\d+\s+\d+\s+DRIFT\s+x\b/m);
      expect(text.stdout).toMatch(/segments drifted: country=DE \(Benjamini–Hochberg over 8 segment × column tests\)/);
    });

    it('rejects a segment column the files lack, and the memory engine, naming what to do', async () => {
      const reference = csv('reference-2.csv', 200, 3, false);
      const missing = await halflife('--reference', reference, '--current', reference, '--segment', 'region');
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/--segment names column "region", which the file does not have/);
      const memory = await halflife(
        '--reference',
        reference,
        '--current',
        reference,
        '--segment',
        'country',
        '--engine',
        'memory',
      );
      expect(memory.code).toBe(3);
      expect(memory.stderr).toMatch(/use it with --engine clickhouse/);
    });
  });

  describe('--multivariate', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-multivariate-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** A CSV of x1, x2 (correlation rho, both N(0, 1)), x3 and a channel label. */
    const csv = (name: string, rho: number, seed: number): string => {
      const random = new Random(seed);
      const lines = ['x1,x2,x3,channel'];
      for (let i = 0; i < 1500; i++) {
        const a = random.normal();
        const b = rho * a + Math.sqrt(1 - rho * rho) * random.normal();
        lines.push(
          `${a.toFixed(5)},${b.toFixed(5)},${random.normal().toFixed(5)},${random.bernoulli(0.3) ? 'web' : 'app'}`,
        );
      }
      const file = path.join(dir, name);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    };

    it('reports a correlation change that no column shows, with both engines', async () => {
      const reference = csv('reference.csv', 0.8, 1);
      const current = csv('current.csv', -0.8, 2);
      for (const engine of ['memory', 'clickhouse']) {
        const { code, stdout, stderr } = await halflife(
          '--reference',
          reference,
          '--current',
          current,
          '--multivariate',
          '--json',
          '--engine',
          engine,
        );
        expect(code, stderr).toBe(0);
        const out = JSON.parse(stdout) as DriftOutput;
        for (const f of out.features) expect(f.drifted).toBe(false);
        expect(out.dataset_drift).toBe(true);
        expect(out.multivariate!.sample).toEqual({ reference: 1000, window: 1000 });
        expect([...out.multivariate!.drifted_tests].sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
        const classifier = out.multivariate!.tests.find((t) => t.test === 'domain-classifier')!;
        expect(
          classifier.driving_features
            .slice(0, 2)
            .map((d) => d.feature)
            .sort(),
        ).toEqual(['x1', 'x2']);
      }
      const table = await halflife('--reference', reference, '--current', current, '--multivariate');
      expect(table.stdout).toMatch(/^domain-classifier\s+roc_auc\s+0\.\d+.*DRIFT\s+x\d \d+%, x\d \d+%/m);
      expect(table.stdout).toMatch(/dataset drift: YES \(0 of 4 tested columns drifted; multivariate tests drifted: /);
    });

    it('reads a vector column (JSON arrays in CSV cells, a list column in Parquet) as one embedding', async () => {
      /** x1, x2 (correlated 0.7) and an 8-d embedding ~ N(0, I), its first two coordinates shifted by `shift`. */
      const vectors = (name: string, shift: number, seed: number): string => {
        const random = new Random(seed);
        const lines = ['x1,x2,emb'];
        for (let i = 0; i < 1200; i++) {
          const a = random.normal();
          const b = 0.7 * a + Math.sqrt(1 - 0.49) * random.normal();
          const emb = Array.from({ length: 8 }, (_, j) => (random.normal() + (j < 2 ? shift : 0)).toFixed(4));
          lines.push(`${a.toFixed(5)},${b.toFixed(5)},"[${emb.join(',')}]"`);
        }
        const file = path.join(dir, name);
        writeFileSync(file, `${lines.join('\n')}\n`);
        return file;
      };
      const reference = vectors('vectors-reference.csv', 0, 5);
      const shifted = vectors('vectors-shifted.csv', 0.6, 6);
      const asParquet = (csv: string): string => {
        const out = csv.replace(/\.csv$/, '.parquet');
        chdb.queryBind(
          "INSERT INTO FUNCTION file({out:String}, Parquet) SELECT x1, x2, CAST(emb AS Array(Float32)) AS emb FROM file({csv:String}, CSVWithNames, 'x1 Float64, x2 Float64, emb String') SETTINGS engine_file_truncate_on_insert = 1",
          { out, csv },
        );
        return out;
      };
      const runs: [string, string, string][] = [
        [reference, shifted, 'memory'],
        [reference, shifted, 'clickhouse'],
        [asParquet(reference), asParquet(shifted), 'memory'],
      ];
      for (const [ref, cur, engine] of runs) {
        const { code, stdout, stderr } = await halflife(
          '--reference',
          ref,
          '--current',
          cur,
          '--multivariate',
          '--json',
          '--engine',
          engine,
        );
        expect(code, stderr).toBe(0);
        const out = JSON.parse(stdout) as DriftOutput;
        // The per-column tests leave the vector out; the scalar columns did not change.
        expect(out.features.map((f) => f.name)).toEqual(['x1', 'x2']);
        for (const f of out.features) expect(f.drifted).toBe(false);
        const onVector = out.multivariate!.tests.find((t) => t.test === 'mmd' && t.features.join() === 'emb');
        expect(onVector?.drifted, `${engine} ${ref}`).toBe(true);
        const classifier = out.multivariate!.tests.find((t) => t.test === 'domain-classifier')!;
        expect(classifier.drifted).toBe(true);
        expect(classifier.driving_features[0]?.feature).toBe('emb');
        expect(out.dataset_drift).toBe(true);
      }
      // Rows of different lengths: an error naming the file, the line and the column.
      const ragged = path.join(dir, 'ragged.csv');
      writeFileSync(ragged, 'x1,emb\n1,"[1,2,3]"\n2,"[1,2]"\n');
      const bad = await halflife(
        '--reference',
        ragged,
        '--current',
        reference,
        '--columns',
        'x1,emb',
        '--multivariate',
      );
      expect(bad.code).toBe(3);
      expect(bad.stderr).toMatch(/ragged\.csv: line 3: column "emb": a vector of 2 numbers where earlier rows have 3/);
    });

    it('leaves a stable pair of files alone, and is off unless asked for', async () => {
      const reference = csv('stable-reference.csv', 0.8, 3);
      const current = csv('stable-current.csv', 0.8, 4);
      const on = JSON.parse(
        (await halflife('--reference', reference, '--current', current, '--multivariate', '--json')).stdout,
      ) as DriftOutput;
      expect(on.dataset_drift).toBe(false);
      expect(on.multivariate!.drifted_tests).toEqual([]);
      const off = JSON.parse(
        (await halflife('--reference', reference, '--current', current, '--json')).stdout,
      ) as DriftOutput;
      expect(off.multivariate).toBeUndefined();
      const bad = await halflife(
        '--reference',
        reference,
        '--current',
        current,
        '--multivariate',
        '--sample-rows',
        '5',
      );
      expect(bad.code).toBe(3);
      expect(bad.stderr).toMatch(/--sample-rows must be an integer in 20\.\.20000, got 5/);
    });
  });

  describe('--policy', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-policy-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string): string => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    /** Rows of three countries; with `missing`, x is empty in 2 rows of every 25 (8%) of every country. Seeded. */
    const csv = (name: string, rows: number, seed: number, missing: boolean): string => {
      const random = new Random(seed);
      const lines = ['country,x'];
      for (let i = 0; i < rows; i++) {
        const x = missing && i % 25 < 2 ? '' : random.normal(0, 1).toFixed(4);
        lines.push(`${['DE', 'FR', 'US'][i % 3]!},${x}`);
      }
      return write(name, `${lines.join('\n')}\n`);
    };
    const policy = (name: string, dataQuality: string): string =>
      write(name, `name: p\nversion: 1\nmodel: m\ntrigger:\n  kind: periodic\n  every: 1h\n${dataQuality}`);
    const reference = csv('reference.csv', 3000, 11, false);
    const current = csv('current.csv', 1500, 12, true);
    const drift = (...args: string[]) =>
      halflife('--reference', reference, '--current', current, '--segment', 'country', ...args);

    it("judges the file's and each segment's data quality at the policy's bars", async () => {
      // An 8-point rise in missing x: breakage at the detector's 5-point bar, in the file and in every segment.
      const byDefault = await drift('--json');
      expect(byDefault.code, byDefault.stderr).toBe(0);
      const strict = JSON.parse(byDefault.stdout) as DriftOutput;
      expect(strict.data_quality).toMatchObject({
        broken: true,
        breakage: ['x: missing rate 0.080 vs reference 0.000'],
      });
      expect(strict.segments!.broken).toEqual(['country=DE', 'country=FR', 'country=US']);

      // A policy whose missing-rate bar is 10 points: the same files are not broken.
      const lax = policy('lax.yaml', 'dataQuality:\n  missingRateIncrease: 0.1\n');
      const withPolicy = await drift('--json', '--policy', lax);
      expect(withPolicy.code, withPolicy.stderr).toBe(0);
      const laxOut = JSON.parse(withPolicy.stdout) as DriftOutput;
      expect(laxOut.data_quality).toMatchObject({ broken: false, breakage: [] });
      expect(laxOut.segments!.broken).toEqual([]);
      expect(laxOut.segments!.segments.map((s) => s.dataQuality)).toEqual(
        Array.from({ length: 3 }, () => ({ broken: false, breakage: [] })),
      );
      // The drift verdicts do not depend on the bars.
      expect(laxOut.features).toEqual(strict.features);

      const text = await drift('--policy', lax);
      expect(text.stdout).toMatch(/^data quality: ok$/m);
      expect(text.stdout).toMatch(/^country=DE\s+1000\s+500\s+ok\s*$/m);
      expect((await drift()).stdout).toMatch(/^data quality: BROKEN \(x: missing rate 0\.080 vs reference 0\.000\)$/m);
    });

    it('rejects a bad policy and the memory engine (exit code 3) and a missing file (2, as backtest), naming what to fix', async () => {
      const bad = policy('bad.yaml', 'dataQuality:\n  missingRateIncrease: -1\n');
      const invalid = await drift('--policy', bad);
      expect(invalid.code).toBe(3);
      expect(invalid.stderr).toMatch(
        /invalid retrain policy .*bad\.yaml: policy\.dataQuality\.missingRateIncrease: must be above 0/,
      );
      const missing = await drift('--policy', path.join(dir, 'nope.yaml'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/--policy .*nope\.yaml: no such file or directory/);
      const memory = await halflife(
        '--reference',
        reference,
        '--current',
        current,
        '--engine',
        'memory',
        '--policy',
        policy('ok.yaml', ''),
      );
      expect(memory.code).toBe(3);
      expect(memory.stderr).toMatch(/--policy judges data quality, .* use it with --engine clickhouse/);
    });

    it('is documented in --help with its default', async () => {
      const help = await halflife('--help');
      expect(help.code).toBe(0);
      expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
        /--policy <file> retrain policy YAML .* dataQuality bars .* \(default: none, the detector's defaults\)/,
      );
    });
  });
});

/**
 * Insert formats chDB takes from memory, on the same realistic scoring-event rows: how long JS
 * takes to encode a batch and how long (wall, and process CPU while JS waits) the engine takes
 * to store it. One process, one embedded chDB, `scoring_events` as the migrations define it,
 * formats in alternating order over several repeats, the table emptied before every insert.
 *
 *   tsx bench/insert-formats.ts [--rows 20000] [--repeats 6] [--formats a,b] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { encodedColumns, encodeScoringEvent } from '../platform/clickhouse/ingest-repository.ts';
import { chdbRawInsert } from '../platform/clickhouse/raw-insert.ts';
import { insertBinary } from '../platform/clickhouse/binary-insert.ts';
import { ByteWriter } from '../platform/clickhouse/row-binary.ts';
import { loadConfig } from '../platform/config.ts';
import type { ScoringEventRow } from '../platform/contracts.ts';
import { prepareRecord } from '../workers/ingest/prepare-record.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    repeats: { type: 'string', default: '6' },
    formats: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** A format and how its body reaches the engine: chdb's raw insert (inline) or a file read with FROM INFILE. */
const ALL_FORMATS = ['JSONCompactEachRow', 'JSONCompactEachRow/file', 'RowBinary/file', 'Native/file'] as const;
type Format = (typeof ALL_FORMATS)[number];

if (args.help) {
  process.stdout.write(`Usage: npm run bench -- insert-formats [options]

Encode and insert the same scoring-event rows into embedded chDB in each insert format.

  --rows N        rows per insert (default 20000, ingest's batch)
  --repeats N     inserts per format, formats alternating (default 6)
  --formats a,b   subset of ${ALL_FORMATS.join(', ')} (default all)
  --json          machine-readable results on stdout
`);
  process.exit(0);
}

/** An event as serving sends it: 20 numeric and 5 categorical features, metadata, sometimes a missing feature. */
function eventJson(i: number): string {
  const features: Record<string, number | string | null> = {};
  for (let f = 0; f < 20; f++) features[`num_${f}`] = Math.round(((i * 7919 + f * 104729) % 100_000) / 7) / 1000;
  for (let c = 0; c < 5; c++) features[`cat_${c}`] = `level_${(i + c * 13) % (5 + c * 7)}`;
  if (i % 10 === 0) features.num_19 = null;
  return JSON.stringify({
    event_id: `evt-${i}-${(i * 2654435761) % 4294967296}`,
    model_id: 'bench-model',
    model_version: '3',
    timestamp: 1_780_000_000_000 + i,
    features,
    prediction: i % 4 === 0 ? { score: (i % 997) / 997, class: i % 2 ? 'yes' : 'no' } : { score: (i % 997) / 997 },
    metadata: { region: ['eu-west', 'us-east', 'ap-süd'][i % 3]!, request: `r${i}` },
  });
}

function rowsOf(n: number): ScoringEventRow[] {
  const rows: ScoringEventRow[] = [];
  for (let i = 0; i < n; i++) {
    const p = prepareRecord(
      {
        source: 'kafka',
        topic: 'bench',
        partition: i % 4,
        offset: String(i),
        key: null,
        value: Buffer.from(eventJson(i)),
        ref: `bench:${i % 4}:${i}`,
      },
      'events',
      { now: 1_780_000_000_000 },
    );
    if (p.kind !== 'event') throw new Error(`bench event ${i} did not validate: ${JSON.stringify(p.row)}`);
    rows.push(p.row);
  }
  return rows;
}

/** RowBinary of one scoring event, in `encodedColumns('scoring_events')` order. */
function writeRowBinary(w: ByteWriter, r: ScoringEventRow): void {
  w.string(r.event_id);
  w.string(r.model_id);
  w.string(r.model_version);
  w.i64(r.ts);
  w.string(r.subject_id);
  w.mapF64(r.num_features);
  w.mapString(r.cat_features);
  w.strings(r.missing_features);
  w.nullableF64(r.prediction_score);
  w.nullableString(r.prediction_class);
  w.nullableF64(r.prediction_value);
  w.mapString(r.metadata);
  w.u16(r.contract_version);
  w.string(r.source);
  w.string(r.source_ref);
  w.mapF32Arrays(r.vec_features ?? {});
  w.mapF64(r.prediction_probabilities ?? {});
}

/**
 * Native (columnar) block of the rows: column by column, a Map as its entry offsets then all its
 * keys then all its values, a Nullable as its null map then its values. LowCardinality columns
 * are sent as String (the engine converts).
 */
function encodeNative(rows: readonly ScoringEventRow[]): Buffer {
  const w = new ByteWriter(1 << 20);
  const n = rows.length;
  const columns: Array<[string, string, () => void]> = [
    ['event_id', 'String', () => rows.forEach((r) => w.string(r.event_id))],
    ['model_id', 'String', () => rows.forEach((r) => w.string(r.model_id))],
    ['model_version', 'String', () => rows.forEach((r) => w.string(r.model_version))],
    ['ts', "DateTime64(3, 'UTC')", () => rows.forEach((r) => w.i64(r.ts))],
    ['subject_id', 'String', () => rows.forEach((r) => w.string(r.subject_id))],
    [
      'num_features',
      'Map(String, Float64)',
      () =>
        nativeMap(
          w,
          rows,
          (r) => r.num_features,
          (v) => w.f64(v),
        ),
    ],
    [
      'cat_features',
      'Map(String, String)',
      () =>
        nativeMap(
          w,
          rows,
          (r) => r.cat_features,
          (v) => w.string(v),
        ),
    ],
    [
      'missing_features',
      'Array(String)',
      () => {
        let offset = 0;
        for (const r of rows) w.i64((offset += r.missing_features.length));
        for (const r of rows) for (const m of r.missing_features) w.string(m);
      },
    ],
    [
      'prediction_score',
      'Nullable(Float64)',
      () =>
        nativeNullable(
          w,
          rows,
          (r) => r.prediction_score,
          (v) => w.f64(v),
          () => w.f64(0),
        ),
    ],
    [
      'prediction_class',
      'Nullable(String)',
      () =>
        nativeNullable(
          w,
          rows,
          (r) => r.prediction_class,
          (v) => w.string(v),
          () => w.u8(0),
        ),
    ],
    [
      'prediction_value',
      'Nullable(Float64)',
      () =>
        nativeNullable(
          w,
          rows,
          (r) => r.prediction_value,
          (v) => w.f64(v),
          () => w.f64(0),
        ),
    ],
    [
      'metadata',
      'Map(String, String)',
      () =>
        nativeMap(
          w,
          rows,
          (r) => r.metadata,
          (v) => w.string(v),
        ),
    ],
    ['contract_version', 'UInt16', () => rows.forEach((r) => w.u16(r.contract_version))],
    ['source', 'String', () => rows.forEach((r) => w.string(r.source))],
    ['source_ref', 'String', () => rows.forEach((r) => w.string(r.source_ref))],
    [
      'vec_features',
      'Map(String, Array(Float32))',
      () => {
        let offset = 0;
        for (const r of rows) w.i64((offset += Object.keys(r.vec_features ?? {}).length));
        for (const r of rows) for (const k in r.vec_features ?? {}) w.string(k);
        let inner = 0;
        for (const r of rows) for (const k in r.vec_features ?? {}) w.i64((inner += r.vec_features![k]!.length));
        for (const r of rows) for (const k in r.vec_features ?? {}) for (const v of r.vec_features![k]!) w.f32(v);
      },
    ],
    [
      'prediction_probabilities',
      'Map(String, Float64)',
      () =>
        nativeMap(
          w,
          rows,
          (r) => r.prediction_probabilities ?? {},
          (v) => w.f64(v),
        ),
    ],
  ];
  w.varUInt(columns.length);
  w.varUInt(n);
  for (const [name, type, write] of columns) {
    w.string(name);
    w.string(type);
    write();
  }
  return Buffer.from(w.bytes());
}

function nativeMap<V>(
  w: ByteWriter,
  rows: readonly ScoringEventRow[],
  of: (r: ScoringEventRow) => Record<string, V>,
  value: (v: V) => void,
): void {
  let offset = 0;
  for (const r of rows) {
    const m = of(r);
    for (const _ in m) offset++;
    w.i64(offset);
  }
  for (const r of rows) for (const k in of(r)) w.string(k);
  for (const r of rows) {
    const m = of(r);
    for (const k in m) value(m[k] as V);
  }
}

function nativeNullable<V>(
  w: ByteWriter,
  rows: readonly ScoringEventRow[],
  of: (r: ScoringEventRow) => V | null,
  value: (v: V) => void,
  placeholder: () => void,
): void {
  for (const r of rows) w.u8(of(r) === null ? 1 : 0);
  for (const r of rows) {
    const v = of(r);
    if (v === null) placeholder();
    else value(v);
  }
}

function encode(format: Format, rows: readonly ScoringEventRow[]): Buffer {
  switch (format) {
    case 'JSONCompactEachRow':
    case 'JSONCompactEachRow/file':
      // As ingest does: a line per row when it enters the batch, joined at the write.
      return Buffer.from(rows.map(encodeScoringEvent).join('\n'));
    case 'RowBinary/file': {
      const w = new ByteWriter(1 << 20);
      for (const r of rows) writeRowBinary(w, r);
      return w.bytes();
    }
    case 'Native/file':
      return encodeNative(rows);
  }
}

interface Sample {
  format: Format;
  encodeMs: number;
  /** Process CPU while JS encodes: less sensitive than wall time to other processes on the machine. */
  encodeCpuMs: number;
  insertMs: number;
  insertCpuMs: number;
  bytes: number;
}

async function main(): Promise<void> {
  const n = Number(args.rows);
  const repeats = Number(args.repeats);
  const formats = (args.formats?.split(',') ?? [...ALL_FORMATS]) as Format[];
  for (const f of formats)
    if (!ALL_FORMATS.includes(f)) throw new Error(`unknown format ${f}: use ${ALL_FORMATS.join(', ')}`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-formats-'));
  const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'warn' } });
  const ch = await openClickHouse(config);
  try {
    await applyMigrations(ch.client);
    const rows = rowsOf(n);
    const json = chdbRawInsert(ch.client);
    if (!json) throw new Error('this benchmark needs embedded chDB (unset clickhouse.url)');
    const columns = encodedColumns('scoring_events');
    const samples: Sample[] = [];
    const load = [os.loadavg()[0]!];
    // One unmeasured insert per format first: the engine's first insert into a table pays set-up.
    for (let r = -1; r < repeats; r++) {
      const order = formats.map((_, i) => formats[(i + Math.max(r, 0)) % formats.length]!);
      for (const format of order) {
        await ch.client.command({ query: 'TRUNCATE TABLE scoring_events' });
        const t0 = performance.now();
        const encodeCpu0 = process.cpuUsage();
        const body = encode(format, rows);
        const encodeCpu = process.cpuUsage(encodeCpu0);
        const t1 = performance.now();
        const cpu0 = process.cpuUsage();
        if (format === 'JSONCompactEachRow')
          await json({ table: 'scoring_events', values: body, format, columns, settings: { optimize_on_insert: 0 } });
        else
          await insertBinary(ch.client, true, {
            table: 'scoring_events',
            columns,
            body,
            format: format.replace('/file', '') as 'RowBinary' | 'Native' | 'JSONCompactEachRow',
            settings: { optimize_on_insert: 0 },
          });
        const cpu = process.cpuUsage(cpu0);
        const t2 = performance.now();
        const [{ c } = { c: '0' }] = await (
          await ch.client.query({ query: 'SELECT count() AS c FROM scoring_events', format: 'JSONEachRow' })
        ).json<{ c: string }>();
        if (Number(c) !== n) throw new Error(`${format}: stored ${c} of ${n} rows`);
        if (r >= 0)
          samples.push({
            format,
            encodeMs: t1 - t0,
            encodeCpuMs: (encodeCpu.user + encodeCpu.system) / 1000,
            insertMs: t2 - t1,
            insertCpuMs: (cpu.user + cpu.system) / 1000,
            bytes: body.length,
          });
      }
    }
    load.push(os.loadavg()[0]!);
    const summary = formats.map((format) => {
      const of = samples.filter((s) => s.format === format);
      const median = (pick: (s: Sample) => number) => {
        const v = of.map(pick).sort((a, b) => a - b);
        return v[Math.floor(v.length / 2)]!;
      };
      const us = (ms: number) => Math.round((ms / n) * 1000 * 100) / 100;
      return {
        format,
        bytesPerRow: Math.round(median((s) => s.bytes) / n),
        encodeUsPerRow: us(median((s) => s.encodeMs)),
        encodeCpuUsPerRow: us(median((s) => s.encodeCpuMs)),
        insertWallUsPerRow: us(median((s) => s.insertMs)),
        insertCpuUsPerRow: us(median((s) => s.insertCpuMs)),
        insertWallMs: of.map((s) => Math.round(s.insertMs)),
      };
    });
    const report = { benchmark: 'insert-formats', date: new Date().toISOString(), rows: n, repeats, load, summary };
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        `rows ${n}, repeats ${repeats}, 1-minute load before/after ${load.map((l) => l.toFixed(2)).join('/')}\n`,
      );
      process.stdout.write(
        'format                   bytes/row  encode wall / CPU µs/row  insert wall / CPU µs/row  insert wall ms (each)\n',
      );
      for (const s of summary)
        process.stdout.write(
          `${s.format.padEnd(24)} ${String(s.bytesPerRow).padStart(9)}  ${`${s.encodeUsPerRow} / ${s.encodeCpuUsPerRow}`.padStart(24)}  ${`${s.insertWallUsPerRow} / ${s.insertCpuUsPerRow}`.padStart(24)}  ${s.insertWallMs.join(' ')}\n`,
        );
    }
  } finally {
    await ch.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:insert-formats] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

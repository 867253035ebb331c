import { describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import type { DeadLetterRow } from '../../platform/clickhouse/ingest-repository.ts';
import {
  CONTRACT_LIMITS,
  labelContract,
  labelSchema,
  scoringEventContract,
  scoringEventSchema,
} from '../../platform/contracts.ts';
import { loadConfig } from '../../platform/config.ts';
import {
  DEFAULT_TIMESTAMP_WINDOW,
  prepareRecord,
  timestampWindowOf,
  type Prepared,
  type RawRecord,
} from '../../workers/ingest/prepare-record.ts';

const NOW = Date.UTC(2026, 11, 4, 12);

const kafka = (value: string | Buffer, offset = 1): RawRecord => ({
  source: 'kafka',
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: typeof value === 'string' ? Buffer.from(value) : value,
  ref: `t:0:${offset}`,
});

const event = (extra: Record<string, unknown> = {}) => ({
  event_id: 'e1',
  model_id: 'm1',
  model_version: 'v1',
  timestamp: NOW - 60_000,
  features: { x: 1.5, plan: 'pro' },
  prediction: { score: 0.4 },
  ...extra,
});

function dead(p: Prepared): DeadLetterRow {
  if (p.kind !== 'dead') throw new Error(`expected a dead letter, got ${p.kind}`);
  return p.row;
}

describe('the timestamp plausibility window', () => {
  const prepare = (ts: unknown, kind: 'events' | 'labels' = 'events', window = DEFAULT_TIMESTAMP_WINDOW) =>
    prepareRecord(
      kafka(JSON.stringify(kind === 'events' ? event({ timestamp: ts }) : { event_id: 'e1', label: 1, timestamp: ts })),
      kind,
      { timestamps: window, now: NOW },
    );

  it.each([
    ['year 1900', '1900-01-01T00:00:00Z', 'before 2000-01-01T00:00:00.000Z'],
    ['year 9999', '9999-12-31T00:00:00Z', 'ahead of this machine'],
    ['epoch seconds sent as milliseconds', 1_764_000_000, 'epoch milliseconds, not seconds?'],
    ['two days ahead', NOW + 2 * 86_400_000, 'ingest.timestampMaxAheadMs'],
  ])('dead-letters %s with a reason naming the setting', (_name, ts, reason) => {
    for (const kind of ['events', 'labels'] as const) {
      const row = dead(prepare(ts, kind));
      expect(row.reason).toContain(reason);
      expect(row.error_path).toBe('timestamp');
    }
  });

  it('accepts now, an hour ahead (clock skew) and 2000-01-01; the window is configurable', () => {
    for (const ts of [NOW, NOW + 3_600_000, '2000-01-01T00:00:00Z']) expect(prepare(ts).kind).toBe('event');
    const config = loadConfig({
      env: { HALFLIFE_INGEST_TIMESTAMP_MIN: '1990-01-01T00:00:00Z', HALFLIFE_INGEST_TIMESTAMP_MAX_AHEAD_MS: '0' },
    });
    const window = timestampWindowOf(config);
    expect(prepare('1995-06-01T00:00:00Z', 'events', window).kind).toBe('event');
    expect(prepare(NOW + 1000, 'events', window).kind).toBe('dead');
  });
});

/**
 * Seeded fuzz: valid records bent in the ways hostile or broken producers bend them (control
 * characters, invalid UTF-8, overflowing numbers, implausible timestamps, too many keys, wrong
 * types, cut JSON). Whatever comes in, a stored row holds only what the limits allow, a
 * rejection names a reason, and the fast check never accepts what the schema refuses.
 */
describe('fuzz: prepareRecord under hostile input', () => {
  // eslint-disable-next-line no-control-regex -- what a stored id must not hold
  const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffd]/;
  const mutations: Array<(r: Random, e: Record<string, unknown>) => string | Buffer> = [
    (r, e) => JSON.stringify({ ...e, event_id: insert(r, String(e.event_id), controlChar(r)) }),
    (r, e) => JSON.stringify({ ...e, model_version: insert(r, 'v1', controlChar(r)) }),
    (r, e) => JSON.stringify({ ...e, subject_id: insert(r, 'cust-1', controlChar(r)) }),
    (r, e) => JSON.stringify(e).replace('"x":1.5', `"x":${r.bernoulli(0.5) ? '' : '-'}1e${309 + r.integer(0, 400)}`),
    (r, e) => JSON.stringify({ ...e, prediction: { score: 0.5, value: 1 } }).replace('"value":1', '"value":-1e999'),
    (r, e) => JSON.stringify({ ...e, timestamp: r.integer(-5e12, 3e14) }),
    (r, e) => JSON.stringify({ ...e, timestamp: `${r.integer(1, 9999).toString().padStart(4, '0')}-06-01T00:00:00Z` }),
    (r, e) =>
      JSON.stringify({
        ...e,
        metadata: Object.fromEntries([...Array(r.integer(0, 300)).keys()].map((i) => [`k${i}`, 'v'])),
      }),
    (r, e) =>
      JSON.stringify({
        ...e,
        features: Object.fromEntries([...Array(r.integer(0, 1200)).keys()].map((i) => [`f${i}`, i])),
      }),
    (r, e) => {
      const bytes = Buffer.from(JSON.stringify(e));
      bytes[r.integer(0, bytes.length - 1)] = r.integer(0x80, 0xff); // invalid UTF-8 in place
      return bytes;
    },
    (r, e) => {
      const text = JSON.stringify(e);
      return text.slice(0, r.integer(0, text.length - 1));
    },
    (r, e) =>
      JSON.stringify({ ...e, [['features', 'prediction', 'event_id', 'timestamp'][r.integer(0, 3)]!]: pick(r) }),
  ];

  it('stores only what the limits allow, rejects the rest with a reason, and never throws (4,000 records)', () => {
    const r = new Random(20261204);
    let stored = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const labels = r.bernoulli(0.25);
      const base = labels ? { event_id: `e${i}`, label: 1, timestamp: NOW - i } : event({ event_id: `e${i}` });
      const raw = mutations[r.integer(0, mutations.length - 1)]!(r, base);
      const prepared = prepareRecord(kafka(raw, i), labels ? 'labels' : 'events', { now: NOW });
      if (prepared.kind === 'dead') {
        rejected++;
        expect(prepared.row.reason.length).toBeGreaterThan(0);
        continue;
      }
      stored++;
      const ts = prepared.kind === 'event' ? prepared.row.ts : prepared.row.label_ts;
      expect(ts).toBeGreaterThanOrEqual(DEFAULT_TIMESTAMP_WINDOW.min);
      expect(ts).toBeLessThanOrEqual(NOW + DEFAULT_TIMESTAMP_WINDOW.maxAheadMs);
      expect(prepared.row.event_id).not.toMatch(CONTROL);
      if (prepared.kind === 'event') {
        const row = prepared.row;
        expect(row.model_version).not.toMatch(CONTROL);
        expect(row.subject_id).not.toMatch(CONTROL);
        for (const v of Object.values(row.num_features)) expect(Number.isFinite(v)).toBe(true);
        for (const v of [row.prediction_score, row.prediction_value])
          if (v !== null) expect(Number.isFinite(v)).toBe(true);
        expect(Object.keys(row.metadata).length).toBeLessThanOrEqual(CONTRACT_LIMITS.metadataKeys);
        const features =
          Object.keys(row.num_features).length + Object.keys(row.cat_features).length + row.missing_features.length;
        expect(features).toBeLessThanOrEqual(CONTRACT_LIMITS.features);
      } else if (prepared.row.label_numeric !== null) {
        expect(Number.isFinite(prepared.row.label_numeric)).toBe(true);
      }
      // The fast check never takes what zod refuses (it may defer what zod accepts).
      let value: unknown;
      try {
        value = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
      } catch {
        continue;
      }
      const [contract, schema] = labels ? [labelContract, labelSchema] : [scoringEventContract, scoringEventSchema];
      if (contract.accepts(value)) expect((schema as typeof labelSchema).safeParse(value).success).toBe(true);
    }
    // Both outcomes are exercised.
    expect(stored).toBeGreaterThan(200);
    expect(rejected).toBeGreaterThan(2000);
  });
});

function controlChar(r: Random): string {
  const pool = ['\u0000', '\u0007', '\u001b', '\n', '\u007f', '\u0085', '\u009b', '\ufffd'];
  return pool[r.integer(0, pool.length - 1)]!;
}

function insert(r: Random, text: string, inserted: string): string {
  const at = r.integer(0, text.length);
  return `${text.slice(0, at)}${inserted}${text.slice(at)}`;
}

function pick(r: Random): unknown {
  const pool: unknown[] = [null, 0, -1, '', 'x'.repeat(2000), [], {}, [1, 2], { a: { b: { c: 1 } } }, true, 1e300];
  return pool[r.integer(0, pool.length - 1)];
}

/**
 * Seeded synthetic scoring events (and labels) generated inside ClickHouse, shared by the
 * window-statistics benchmarks (drift, segments, window-reads): row i of a window has
 * ts = start + i ms, numeric f_j ~ N(j, (j+1)²) by Box–Muller over cityHash64 uniforms,
 * categorical c_j uniform over 3 + 4j labels, a score uniform on [0, 1) and a predicted class.
 * The same seed and options give the same rows, bit for bit.
 */
import { queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';

export const BENCH_NUMERIC = 20;
export const BENCH_CATEGORICAL = 5;

export interface SyntheticEvents {
  model: string;
  start: number;
  rows: number;
  seed: number;
  /** The drift benchmark's shift: f0..f4 by 0.3 σ, f5's spread doubled, c0 skewed. @default false */
  drift?: boolean;
  /**
   * Metadata `region` r0…r{n−1} with volume ∝ 1/(rank + 1) (the segment key of the segment
   * benchmarks). @default 0 (no metadata)
   */
  regions?: number;
  /** With `regions`: shift f0 by 0.5 σ in region r3 only. @default false */
  regionShift?: boolean;
  /** Rows per INSERT. @default 1000000 */
  chunk?: number;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** Insert the events of `spec` into `scoring_events`. */
export async function generateEvents(ch: ClickHouse, spec: SyntheticEvents): Promise<void> {
  const chunk = spec.chunk ?? 1_000_000;
  const regions = spec.regions ?? 0;
  const drift = spec.drift ? 1 : 0;
  const regionShift = spec.regionShift && regions > 0 ? 1 : 0;
  for (let offset = 0; offset < spec.rows; offset += chunk) {
    const n = Math.min(chunk, spec.rows - offset);
    await ch.client.command({
      query: `INSERT INTO scoring_events (event_id, model_id, model_version, ts, num_features, cat_features, missing_features, prediction_score, prediction_class, metadata, contract_version, source, source_ref)
        SELECT concat(toString({seed:UInt32}), '-', toString(number)), {model:String}, 'v1', fromUnixTimestamp64Milli(toInt64({start:Int64} + number)),
          mapFromArrays(
            arrayMap(j -> concat('f', toString(j)), range(${BENCH_NUMERIC})),
            arrayMap(j -> j + (j + 1) * (if({drift:UInt8} AND j < 5, 0.3, 0) + if({regionShift:UInt8} AND j = 0 AND region = 'r3', 0.5, 0)
              + if({drift:UInt8} AND j = 5, 2, 1)
              * sqrt(-2 * log((cityHash64({seed:UInt32}, number, j, 1) % 1000000 + 1) / 1000001))
              * cos(2 * pi() * (cityHash64({seed:UInt32}, number, j, 2) % 1000000) / 1000000)), range(${BENCH_NUMERIC}))),
          mapFromArrays(
            arrayMap(j -> concat('c', toString(j)), range(${BENCH_CATEGORICAL})),
            arrayMap(j -> concat('k', toString(if({drift:UInt8} AND j = 0 AND cityHash64({seed:UInt32}, number, 7) % 10 < 3, 0,
              cityHash64({seed:UInt32}, number, j, 3) % (3 + 4 * j)))), range(${BENCH_CATEGORICAL}))),
          [], (cityHash64({seed:UInt32}, number, 4) % 1000000) / 1000000, if(cityHash64({seed:UInt32}, number, 5) % 3 = 0, 'pos', 'neg'),
          mapFromArrays(if({regions:UInt32} = 0, [], ['region']), if({regions:UInt32} = 0, [], [region])), 1, 'bench', ''
        FROM (
          SELECT number,
            concat('r', toString(least({regions:UInt32} - 1, toUInt32(floor(exp(log({regions:UInt32} + 1) * (cityHash64({seed:UInt32}, number, 6) % 1000000) / 1000000)) - 1)))) AS region
          FROM numbers({offset:UInt64}, {n:UInt64})
        )`,
      query_params: { seed: spec.seed, model: spec.model, start: spec.start, drift, regionShift, regions, offset, n },
    });
    spec.log?.(`  inserted ${(offset + n).toLocaleString('en-US')} / ${spec.rows.toLocaleString('en-US')} rows`);
  }
}

/**
 * Labels for a share of a window's events, arriving `delayMs` after the event: 1 with
 * probability equal to the score (a calibrated model), seeded by the event's id.
 */
export async function generateLabels(
  ch: ClickHouse,
  spec: { model: string; start: number; rows: number; share: number; delayMs: number },
): Promise<void> {
  await ch.client.command({
    query: `INSERT INTO labels (event_id, label, label_numeric, label_ts, contract_version, source, source_ref)
      SELECT event_id, toString(y), y, ts + toIntervalMillisecond({delay:UInt32}), 1, 'bench', ''
      FROM (
        SELECT event_id, ts, toFloat64((cityHash64(event_id, 8) % 1000000) / 1000000 < assumeNotNull(prediction_score)) AS y
        FROM scoring_events
        WHERE model_id = {model:String}
          AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64})
          AND prediction_score IS NOT NULL AND cityHash64(event_id, 9) % 1000000 < {share:UInt32}
      )`,
    query_params: {
      model: spec.model,
      s: spec.start,
      e: spec.start + spec.rows,
      delay: spec.delayMs,
      share: Math.round(spec.share * 1_000_000),
    },
  });
}

/** Stored events of `model` in [start, start + rows) (rows of one generated window). */
export async function countRows(ch: ClickHouse, model: string, start: number, rows: number): Promise<number> {
  const r = await queryRows<{ n: number }>(
    ch.client,
    'SELECT count() AS n FROM scoring_events WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64})',
    { model, s: start, e: start + rows },
  );
  return Number(r[0]?.n ?? 0);
}

/** Labels stored for events of `model` in [start, start + rows). */
export async function countLabels(ch: ClickHouse, model: string, start: number, rows: number): Promise<number> {
  const r = await queryRows<{ n: number }>(
    ch.client,
    `SELECT count() AS n FROM labels WHERE event_id IN (
       SELECT event_id FROM scoring_events WHERE model_id = {model:String}
         AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64}))`,
    { model, s: start, e: start + rows },
  );
  return Number(r[0]?.n ?? 0);
}

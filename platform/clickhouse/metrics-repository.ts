/**
 * What GET /metrics counts from the tables (workers/metrics.ts): decisions by kind, windows the
 * monitors evaluated, training durations and stored dead letters, all since the tables began
 * (what Prometheus expects of a counter), so they survive restarts and agree with
 * `halflife decisions` whichever process wrote them.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

export interface DecisionCountRow {
  model_id: string;
  kind: string;
  n: string;
}

/** Decisions per model and kind. */
export async function decisionCounts(client: ClickHouseClient): Promise<DecisionCountRow[]> {
  return queryRows<DecisionCountRow>(
    client,
    'SELECT model_id, kind, uniqExact(decision_id) AS n FROM decisions GROUP BY model_id, kind',
  );
}

export interface MonitorTickRow {
  model_id: string;
  n: string;
}

/** Windows evaluated per model: a tick evaluates one window, so the monitors' decisions that carry one, once per window. */
export async function monitorTicks(client: ClickHouseClient): Promise<MonitorTickRow[]> {
  return queryRows<MonitorTickRow>(
    client,
    "SELECT model_id, uniqExact(windows) AS n FROM decisions WHERE windows NOT IN ('', 'null') AND startsWith(workflow_id, 'halflife-monitor-') GROUP BY model_id",
  );
}

export interface TrainingDurationRow {
  model_id: string;
  seconds: number;
  /** Epoch ms the version was registered. */
  created_ms: string;
}

/** Per version halflife trained, oldest first: seconds from its training snapshot to its registration (train + store + register). */
export async function trainingDurations(client: ClickHouseClient): Promise<TrainingDurationRow[]> {
  return queryRows<TrainingDurationRow>(
    client,
    `SELECT v.model_id AS model_id, greatest(0, toUnixTimestamp64Milli(v.created_at) - toUnixTimestamp64Milli(s.created_at)) / 1000 AS seconds,
            toUnixTimestamp64Milli(v.created_at) AS created_ms
     FROM (SELECT model_id, lineage_id, created_at FROM model_versions FINAL WHERE lineage_id != '') AS v
     INNER JOIN (SELECT snapshot_id, created_at FROM training_snapshots FINAL) AS s ON s.snapshot_id = v.lineage_id
     ORDER BY created_ms`,
  );
}

/** Dead letters stored, all models, all time. */
export async function storedDeadLetters(client: ClickHouseClient): Promise<number> {
  const [row] = await queryRows<{ n: string }>(client, 'SELECT count() AS n FROM dead_letters');
  return Number(row?.n ?? 0);
}

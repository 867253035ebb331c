/**
 * The labelled events of a window that a training snapshot freezes (activities/snapshot.ts):
 * each event with its newest label, less the events of excluded subjects (erasure requests).
 * Read in pages by event id, so a snapshot of any size streams in bounded memory.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { windowFilter, type TimeWindow } from './time-window.ts';

export interface TrainingEventsQuery {
  modelId: string;
  window: TimeWindow;
  /** Subjects whose events are left out. */
  excludedSubjects: readonly string[];
}

export interface LabelledEventRow {
  event_id: string;
  subject_id: string;
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  label: string;
  label_numeric: number | null;
}

/** The labelled events of the window, the newest label per event, minus excluded subjects; and its parameters. */
function labelledEvents(q: TrainingEventsQuery): { sql: string; params: Record<string, unknown> } {
  const ts = windowFilter('ts', q.window);
  return {
    sql: `
  SELECT e.event_id AS event_id, e.subject_id AS subject_id, e.num_features AS num_features, e.cat_features AS cat_features,
         l.label AS label, l.label_numeric AS label_numeric
  FROM (
    SELECT event_id, subject_id, num_features, cat_features FROM scoring_events FINAL
    WHERE model_id = {m:String} AND ${ts.sql}
      AND NOT has({excluded:Array(String)}, subject_id)
  ) AS e
  INNER JOIN (
    SELECT event_id, argMax(label, label_ts) AS label, argMax(label_numeric, label_ts) AS label_numeric FROM labels
    WHERE event_id IN (
      SELECT event_id FROM scoring_events
      WHERE model_id = {m:String} AND ${ts.sql})
    GROUP BY event_id
  ) AS l ON l.event_id = e.event_id`,
    params: { m: q.modelId, ...ts.params, excluded: [...q.excludedSubjects] },
  };
}

export interface LabelledEventsSummary {
  /** Feature names seen in `num_features` and in `cat_features` (unordered). */
  numeric: string[];
  categorical: string[];
  /** Labelled events. */
  events: number;
}

/** Which features the labelled events carry, and how many there are. */
export async function labelledEventsSummary(
  client: ClickHouseClient,
  q: TrainingEventsQuery,
): Promise<LabelledEventsSummary> {
  const labelled = labelledEvents(q);
  const [row] = await queryRows<{ num: string[]; cat: string[]; n: string }>(
    client,
    `SELECT groupUniqArrayArray(mapKeys(num_features)) AS num, groupUniqArrayArray(mapKeys(cat_features)) AS cat, count() AS n
     FROM (${labelled.sql})`,
    labelled.params,
  );
  return { numeric: row?.num ?? [], categorical: row?.cat ?? [], events: Number(row?.n ?? 0) };
}

/** Events of the model in the window, labelled or not, excluded subjects included. */
export async function eventsInWindow(client: ClickHouseClient, modelId: string, window: TimeWindow): Promise<number> {
  const ts = windowFilter('ts', window);
  const [row] = await queryRows<{ n: string }>(
    client,
    `SELECT count() AS n FROM scoring_events FINAL
     WHERE model_id = {m:String} AND ${ts.sql}`,
    { m: modelId, ...ts.params },
  );
  return Number(row?.n ?? 0);
}

/** Up to `limit` labelled events with ids after `after`, in event id order ('' starts at the first). */
export async function labelledEventsPage(
  client: ClickHouseClient,
  q: TrainingEventsQuery,
  after: string,
  limit: number,
): Promise<LabelledEventRow[]> {
  const labelled = labelledEvents(q);
  return queryRows<LabelledEventRow>(
    client,
    `SELECT * FROM (${labelled.sql}) WHERE event_id > {after:String} ORDER BY event_id LIMIT {page:UInt32}`,
    { ...labelled.params, after, page: limit },
  );
}

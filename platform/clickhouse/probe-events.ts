/**
 * The labelled events a challenger probe is paired on: the one subquery of both kinds' probe pair
 * reads (`probePairs` in shadow-repository.ts, `outcomeProbePairs` in shadow-outcome-repository.ts),
 * so the two statements' filters cannot drift apart.
 */
import { labelsOfEvents } from './labels-of-events.ts';
import { namedWindowFilter, windowFilter, type TimeWindow } from './time-window.ts';

export interface ProbeEventsQuery {
  modelId: string;
  /** The champion the probe compares with: only events it served, with the scores it served. */
  championVersion: string;
  /** Events from the probe's start to the end of the window being closed. */
  window: TimeWindow;
  /** Labels that had arrived by then (label_ts before it), as the window's own quality counts them. */
  labelsArrivedBy: number;
  /** The challenger's training snapshot: its events are left out. */
  trainingSnapshotId: string;
  /** Oldest events first, at most this many (so a later call extends an earlier one's set). */
  limit: number;
}

/**
 * Events the champion served in the window, outside every split of the challenger's training
 * snapshot, each with the newest label that had arrived by the decision, oldest first, at most
 * `limit`. Its columns: `event_id`, `ts`, the `servedColumns` of `scoring_events` (what the champion
 * served, named as in the table), `label`, `label_numeric`. Its parameters (spread them into the
 * enclosing query's) include `{m:String}`, the model id, for the enclosing query to read too.
 */
export function probeEventsSubquery(
  q: ProbeEventsQuery,
  servedColumns: readonly string[],
): { sql: string; params: Record<string, string | number> } {
  const ts = windowFilter('ts', q.window);
  const arrived = namedWindowFilter('label_ts', 'arrived', { start: null, end: q.labelsArrivedBy });
  const served = servedColumns.map((c) => `e.${c} AS ${c}, `).join('');
  return {
    sql: `SELECT e.event_id AS event_id, e.ts AS ts, ${served}l.label AS label, l.label_numeric AS label_numeric
           FROM (SELECT event_id, ts, ${servedColumns.join(', ')} FROM scoring_events FINAL
                 WHERE model_id = {m:String} AND model_version = {champion:String} AND ${ts.sql}
                   AND event_id NOT IN (SELECT event_id FROM training_lineage WHERE snapshot_id = {lineage:String})) AS e
           INNER JOIN (SELECT event_id, argMax(label, label_ts) AS label, argMax(label_numeric, label_ts) AS label_numeric
                       FROM labels ${labelsOfEvents(`model_id = {m:String} AND model_version = {champion:String} AND ${ts.sql}`)}
                       WHERE ${arrived.sql} GROUP BY event_id) AS l
             ON l.event_id = e.event_id
           ORDER BY e.ts, e.event_id LIMIT {limit:UInt32}`,
    params: {
      m: q.modelId,
      champion: q.championVersion,
      ...ts.params,
      ...arrived.params,
      lineage: q.trainingSnapshotId,
      limit: q.limit,
    },
  };
}

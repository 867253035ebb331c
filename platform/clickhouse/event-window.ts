/**
 * The events a drift-statistics query reads: one model (optionally one version) in a window,
 * as `FROM … PREWHERE <window>` with the SETTINGS that go with it.
 *
 * With FINAL, ClickHouse does not move a WHERE on a non-key column (ts) into PREWHERE, so it
 * read and de-duplicated every row of the partitions (all feature maps) before filtering the
 * window; and since `ts` is not in the sorting key it also merged across partitions, which
 * defers partition pruning. Both are needless here: a duplicate row is the same event
 * redelivered (ingest keys it by (model_id, event_id, minute of ts) and drops ids it has already
 * stored; the table's key holds the minute since migration 74), so all copies of an event carry
 * the same ts (at least the same minute), hence lie in the same window and the same monthly partition. Filtering first (PREWHERE, applied before FINAL) and de-duplicating per
 * partition therefore gives exactly the rows of FINAL-then-filter, reading only the window's
 * maps (see BENCHMARKS.md "Drift report": 1M of 11M rows in a partition, 3.6 → 2.2 CPU s).
 */
import { checkedTimeWindow, windowFilter, type TimeBound, type TimeWindow } from './time-window.ts';

export interface EventWindow {
  modelId: string;
  /** Only events of this model version. @default all versions */
  modelVersion?: string;
  /** Inclusive. */
  start: TimeBound;
  /** Exclusive. */
  end: TimeBound;
  /** Read `scoring_events FINAL` (exact after duplicate events). @default true */
  final?: boolean;
}

/** An event window rendered for a query: spliced as `FROM ${source}…${settings}`, with `params` spread into the query's. */
export interface EventWindowSql {
  source: string;
  settings: string;
  params: { model: string; version: string; start: number; end: number };
  /** The checked bounds. */
  window: TimeWindow;
}

/** Render an event window; throws ValidationError on bounds that are not whole epoch ms or not increasing. */
export function eventWindowSql(events: EventWindow): EventWindowSql {
  const window = checkedTimeWindow(events.start, events.end);
  const time = windowFilter('ts', window);
  // `version = ''` means all versions.
  const filter = `model_id = {model:String}
  AND ({version:String} = '' OR model_version = {version:String})
  AND ${time.sql}`;
  return {
    source: `${events.final === false ? 'scoring_events' : 'scoring_events FINAL'}\n  PREWHERE ${filter}`,
    settings: events.final === false ? '' : '\nSETTINGS do_not_merge_across_partitions_select_final = 1',
    params: { model: events.modelId, version: events.modelVersion ?? '', ...time.params },
    window,
  };
}

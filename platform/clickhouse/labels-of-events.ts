/**
 * The one way a read of `labels` is kept to the labels it can join: `labels` is keyed by event_id
 * alone (every model, all time), so a join against its whole table costs more with every label
 * ever stored; restricted to the event ids of the events on the other side of the join, it reads
 * about one granule per event (256-row granules, migration 40), however many labels there are.
 *
 * The ids come from `scoring_events` without FINAL: a superset of the ids the other side keeps
 * (duplicates only repeat an id), so the join's result is unchanged. The restriction is a
 * PREWHERE on the sorting key, so under FINAL every version of a label is kept or dropped
 * together and the newest still wins.
 */

/**
 * `PREWHERE event_id IN (SELECT event_id FROM scoring_events PREWHERE <eventFilter>)`, for a read
 * of `labels` (before its WHERE). `eventFilter` is SQL over scoring_events' columns whose values
 * are query parameters of the enclosing query (model id, time window, version).
 */
export function labelsOfEvents(eventFilter: string): string {
  return `PREWHERE event_id IN (SELECT event_id FROM scoring_events PREWHERE ${eventFilter})`;
}

/**
 * `PREWHERE event_id IN (SELECT event_id FROM labels WHERE <arrivalFilter>)`, for a read of
 * `labels` FINAL that keeps only labels whose newest version arrived in a range: the ids of labels
 * that arrived in it include every such event (its newest label is one of them), and FINAL still
 * sees every version of those ids. Finding the ids scans the arrival column of every stored label
 * (labels are ordered by event id), a light read, not a merge of the whole table.
 */
export function labelsArrivedIn(arrivalFilter: string): string {
  return `PREWHERE event_id IN (SELECT event_id FROM labels WHERE ${arrivalFilter})`;
}

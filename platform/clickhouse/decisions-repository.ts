import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { sinceFilter } from './time-window.ts';

/** Kinds of decision halflife records. "no-action" is a decision too. */
export type DecisionKind =
  | 'no-action'
  | 'retrain'
  | 'blocked'
  | 'approval-requested'
  | 'approve'
  | 'reject'
  | 'approval-expired'
  | 'training-failed'
  | 'promote'
  | 'rollback'
  /** Serving did not confirm a promotion or rollback within the timeout (or refused it): undone. */
  | 'promotion-failed'
  | 'rollback-failed'
  | 'archive'
  | 'pause'
  | 'resume'
  | 'policy-change'
  | 'force-retrain'
  | 'gdpr-erasure'
  /** An erasure tainted the production version: what serves instead (or that nothing does). */
  | 'gdpr-withdrawal';

/** One decision with its full provenance, as stored in `decisions`. */
export interface DecisionRecord {
  /** Deterministic id (workflow id + what was decided), so a retried activity stores it once. */
  decisionId: string;
  modelId: string;
  modelVersion: string;
  workflowId: string;
  runId: string;
  decidedAt: number;
  kind: DecisionKind;
  /** "system" or the named person/token that acted. */
  actor: string;
  reason: string;
  policy: { name: string; version: string; hash: string };
  /** Statistics that drove the decision (drift, quality, decay, economics). */
  statistics: unknown;
  thresholds: unknown;
  /** The data windows the decision looked at. */
  windows: unknown;
  trainingWindow: unknown;
  /** Training lineage (snapshot id) when there was training. */
  lineageId: string;
  /** Anything else worth keeping: guards, approval, retrain outcome. */
  details: unknown;
}

interface DecisionRow {
  decision_id: string;
  model_id: string;
  model_version: string;
  workflow_id: string;
  run_id: string;
  decided_at: string;
  kind: string;
  actor: string;
  reason: string;
  policy_name: string;
  policy_version: string;
  policy_hash: string;
  statistics: string;
  thresholds: string;
  windows: string;
  training_window: string;
  lineage_id: string;
  details: string;
}

/**
 * A record that may run again in a later attempt of the workflow task that asked for it: the
 * monitor's record as a local activity runs inside the task, before the task completes, and a task
 * that fails or times out first (its worker dies, its history cannot be written) runs again — the
 * window read and the decision included, at that attempt's own time and possibly with another
 * outcome. The attempt whose task completes is the one the history keeps, so it replaces the
 * rows of its id an earlier attempt stored. `earlierAttemptsSince`: no earlier attempt was decided
 * before it (the run's start: the id names the run).
 */
export interface RepeatableRecord {
  earlierAttemptsSince: number;
}

/**
 * Store a decision once: a second call with the same id (an activity retry) is a no-op; with
 * `repeatable`, a second call at another decision time replaces the first.
 */
export async function recordDecision(
  client: ClickHouseClient,
  d: DecisionRecord,
  repeatable?: RepeatableRecord,
): Promise<{ stored: boolean }> {
  const [stored] = await recordDecisions(client, [d], [repeatable]);
  return { stored: stored ?? false };
}

/**
 * The batch's decision ids stored already, and when each row was decided: each model's rows read
 * within its own records' decision times (from the earliest a repeatable record's earlier attempt
 * may have been decided), so a long run's bound does not widen the other models' reads.
 */
function storedDecisionIdsSql(models: number): string {
  const ranges = Array.from(
    { length: models },
    (_, k) =>
      `(model_id = {model${k}:String} AND decided_at >= fromUnixTimestamp64Milli({from${k}:Int64}) AND decided_at <= fromUnixTimestamp64Milli({to${k}:Int64}))`,
  );
  return `
SELECT decision_id, toUnixTimestamp64Milli(decided_at) AS decided_ms FROM decisions
WHERE decision_id IN {ids:Array(String)} AND (${ranges.join(' OR ')})`;
}

/**
 * Rows an earlier attempt of a repeatable record stored, by id and decision time (the table's
 * ReplacingMergeTree collapses only rows of one sort key, which holds the decision time). A
 * lightweight DELETE: the rows are masked at once, readers and FINAL skip them, a merge drops
 * them; it runs only when a workflow task ran a record and did not complete.
 */
const DELETE_EARLIER_ATTEMPTS_SQL = `
DELETE FROM decisions
WHERE model_id IN {models:Array(String)}
  AND concat(decision_id, '@', toString(toUnixTimestamp64Milli(decided_at))) IN {attempts:Array(String)}`;

/**
 * Rows of later decisions of the same run that an earlier attempt stored: a task that ran two ticks
 * (a monitor behind its cadence decides its due windows back to back in one task) and then failed
 * left both ticks' rows; the next attempt replaces the first tick's by id, and the second's — which
 * that attempt will decide again, over another window — would read meanwhile as a decision of a
 * window the history never decided. So a retried record also deletes the run's rows counted after
 * it and decided between the run's start and this attempt (an attempt's own records are decided at
 * its time or later). A lightweight DELETE, only when a retry found an earlier attempt.
 */
const DELETE_LATER_ORPHANS_SQL = `
DELETE FROM decisions
WHERE model_id = {model:String} AND run_id = {run:String}
  AND decided_at >= fromUnixTimestamp64Milli({since:Int64}) AND decided_at < fromUnixTimestamp64Milli({before:Int64})
  AND toUInt64OrZero(splitByChar('/', decision_id)[-1]) > {counter:UInt64}`;

/** The decision's count within its run: the last part of its id (`<workflow>/<run>/<count>`). */
function decisionCounter(decisionId: string): number | null {
  const counter = Number(decisionId.slice(decisionId.lastIndexOf('/') + 1));
  return Number.isSafeInteger(counter) && counter > 0 ? counter : null;
}

/**
 * Store many decisions with one look-up and one insert (a fleet's ticks record ~one a model a
 * minute; one query and one part each cost the embedded engine's query lane and its merges that
 * much). Each is stored once: an id stored already, or earlier in the same batch, is skipped —
 * unless its record is `repeatable` (the same index of `repeatables`) and the stored row was
 * decided at another time: that row is an earlier attempt's, deleted, and this one stored.
 * Returns, in order, whether each was stored by this call.
 */
export async function recordDecisions(
  client: ClickHouseClient,
  decisions: DecisionRecord[],
  repeatables: readonly (RepeatableRecord | undefined)[] = [],
): Promise<boolean[]> {
  if (decisions.length === 0) return [];
  // Per model, the times to look in: a retry carries the decision time of its first attempt, so
  // the look-up need not read older rows; a repeatable record's earlier attempt was decided no
  // earlier than its bound.
  const ranges = new Map<string, { from: number; to: number }>();
  decisions.forEach((d, i) => {
    const from = Math.min(d.decidedAt, repeatables[i]?.earlierAttemptsSince ?? d.decidedAt);
    const range = ranges.get(d.modelId);
    ranges.set(d.modelId, {
      from: Math.min(from, range?.from ?? from),
      to: Math.max(d.decidedAt, range?.to ?? d.decidedAt),
    });
  });
  const models = [...ranges.keys()];
  const params: Record<string, unknown> = { ids: [...new Set(decisions.map((d) => d.decisionId))] };
  [...ranges].forEach(([modelId, { from, to }], k) =>
    Object.assign(params, { [`model${k}`]: modelId, [`from${k}`]: from, [`to${k}`]: to }),
  );
  const existing = await queryRows<{ decision_id: string; decided_ms: string }>(
    client,
    storedDecisionIdsSql(ranges.size),
    params,
  );
  const storedAt = new Map<string, number[]>();
  for (const row of existing)
    storedAt.set(row.decision_id, [...(storedAt.get(row.decision_id) ?? []), Number(row.decided_ms)]);
  const seen = new Set<string>();
  const earlierAttempts: string[] = [];
  const laterOrphans: { model: string; run: string; since: number; before: number; counter: number }[] = [];
  const stored = decisions.map((d, i) => {
    if (seen.has(d.decisionId)) return false;
    seen.add(d.decisionId);
    const at = storedAt.get(d.decisionId) ?? [];
    if (at.length === 0) return true;
    if (!repeatables[i]) return false;
    // A row at this decision time is this attempt's own (its retry): kept. Others are earlier attempts'.
    const others = at.filter((t) => t !== d.decidedAt);
    earlierAttempts.push(...others.map((t) => `${d.decisionId}@${t}`));
    const counter = decisionCounter(d.decisionId);
    if (others.length > 0 && counter !== null)
      laterOrphans.push({
        model: d.modelId,
        run: d.runId,
        since: repeatables[i]!.earlierAttemptsSince,
        before: d.decidedAt,
        counter,
      });
    return others.length === at.length;
  });
  // Rare (a task retried after recording two ticks): one statement per retried record.
  for (const orphans of laterOrphans) await client.command({ query: DELETE_LATER_ORPHANS_SQL, query_params: orphans });
  if (earlierAttempts.length > 0)
    await client.command({
      query: DELETE_EARLIER_ATTEMPTS_SQL,
      query_params: { models, attempts: [...new Set(earlierAttempts)] },
    });
  const rows = decisions.filter((_, i) => stored[i]).map(decisionRow);
  if (rows.length > 0) await client.insert({ table: 'decisions', format: 'JSONEachRow', values: rows });
  return stored;
}

function decisionRow(d: DecisionRecord): Record<string, unknown> {
  return {
    decision_id: d.decisionId,
    model_id: d.modelId,
    model_version: d.modelVersion,
    workflow_id: d.workflowId,
    run_id: d.runId,
    decided_at: d.decidedAt,
    kind: d.kind,
    actor: d.actor,
    reason: d.reason,
    policy_name: d.policy.name,
    policy_version: d.policy.version,
    policy_hash: d.policy.hash,
    statistics: JSON.stringify(d.statistics ?? null),
    thresholds: JSON.stringify(d.thresholds ?? null),
    windows: JSON.stringify(d.windows ?? null),
    training_window: JSON.stringify(d.trainingWindow ?? null),
    lineage_id: d.lineageId,
    details: JSON.stringify(d.details ?? null),
  };
}

const COLUMNS = `decision_id, model_id, model_version, workflow_id, run_id, toUnixTimestamp64Milli(decided_at) AS decided_at, kind, actor, reason,
  policy_name, policy_version, policy_hash, statistics, thresholds, windows, training_window, lineage_id, details`;

export async function getDecision(client: ClickHouseClient, decisionId: string): Promise<DecisionRecord | undefined> {
  const rows = await queryRows<DecisionRow>(
    client,
    `SELECT ${COLUMNS} FROM decisions FINAL WHERE decision_id = {id:String} LIMIT 1`,
    { id: decisionId },
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export interface DecisionQuery {
  modelId?: string;
  kinds?: DecisionKind[];
  since?: number;
  /** @default 100 */
  limit?: number;
}

/** Decisions, newest first. */
export async function listDecisions(client: ClickHouseClient, q: DecisionQuery = {}): Promise<DecisionRecord[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit ?? 100 };
  if (q.modelId) {
    where.push('model_id = {model:String}');
    params.model = q.modelId;
  }
  if (q.kinds && q.kinds.length > 0) {
    where.push('kind IN {kinds:Array(String)}');
    params.kinds = q.kinds;
  }
  if (q.since !== undefined) {
    const since = sinceFilter('decided_at', q.since);
    where.push(since.sql);
    Object.assign(params, since.params);
  }
  const rows = await queryRows<DecisionRow>(
    client,
    `SELECT ${COLUMNS} FROM decisions FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY decided_at DESC, decision_id DESC LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map(fromRow);
}

function fromRow(r: DecisionRow): DecisionRecord {
  return {
    decisionId: r.decision_id,
    modelId: r.model_id,
    modelVersion: r.model_version,
    workflowId: r.workflow_id,
    runId: r.run_id,
    decidedAt: Number(r.decided_at),
    kind: r.kind as DecisionKind,
    actor: r.actor,
    reason: r.reason,
    policy: { name: r.policy_name, version: r.policy_version, hash: r.policy_hash },
    statistics: parse(r.statistics),
    thresholds: parse(r.thresholds),
    windows: parse(r.windows),
    trainingWindow: parse(r.training_window),
    lineageId: r.lineage_id,
    details: parse(r.details),
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

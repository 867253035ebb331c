import { servingSummary, type ServingStatus } from '../operations/serving-status.ts';
import { halfLifeEvidence } from '../detectors/decay/evidence.ts';
import { displayReason } from '../detectors/texts/decision-reason.ts';
import { formatEstimateHours, formatInstant } from '../detectors/texts/format.ts';
import type { DecisionRecord } from '../platform/clickhouse/decisions-repository.ts';
import type { MonitorStatus } from '../workflows/messages.ts';
import { table } from './output.ts';

/**
 * Decisions as a table, newest first: the reason last and whole (wrapped to the terminal, never
 * cut), without the prefixes older records repeat; times in the one format (detectors/texts).
 */
export function renderDecisionList(decisions: DecisionRecord[], width?: number | null): string {
  if (decisions.length === 0) return 'no decisions';
  return table(
    ['decided at', 'model', 'version', 'kind', 'actor', 'decision id', 'reason'],
    decisions.map((d) => [
      formatInstant(d.decidedAt),
      d.modelId,
      d.modelVersion,
      d.kind,
      d.actor,
      d.decisionId,
      displayReason(d.reason),
    ]),
    { wrap: [6], ...(width === undefined ? {} : { width }) },
  );
}

/** Monitors as a table: the half-life only when the fit has the evidence, the last decision's reason whole. */
export function renderStatuses(
  statuses: Array<MonitorStatus & { serving?: ServingStatus | null }>,
  width?: number | null,
): string {
  if (statuses.length === 0)
    return 'no monitors are running (start one with `halflife monitor start <model> --policy <file>`)';
  const rows = table(
    ['model', 'health', 'stage', 'version', 'serving', 'quality', 'half-life', 'next tick', 'last decision', 'why'],
    statuses.map((s) => [
      s.modelId,
      s.health,
      s.stage,
      s.version ?? '—',
      s.serving ? servingSummary(s.serving) : '—',
      s.lastWindow?.quality ? `${s.lastWindow.quality.value.toFixed(3)} (${s.lastWindow.quality.source})` : '—',
      halfLifeEvidence(s.decay).reportable && s.decay?.halfLifeHours
        ? formatEstimateHours(s.decay.halfLifeHours, s.decay.halfLifeInterval)
        : '—',
      s.nextTickAt ? formatInstant(s.nextTickAt) : '—',
      s.lastDecision ? `${s.lastDecision.kind}, ${formatInstant(s.lastDecision.at)}` : '—',
      s.lastDecision ? displayReason(s.lastDecision.reason) : '—',
    ]),
    { wrap: [9], ...(width === undefined ? {} : { width }) },
  );
  const why = statuses.flatMap((s) => (s.healthFindings ?? []).map((f) => `  ${s.modelId}: ${f.state} — ${f.reason}`));
  return why.length > 0 ? `${rows}\nwhy (README "Health" says what to do):\n${why.join('\n')}` : rows;
}

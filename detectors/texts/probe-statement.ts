/**
 * How a decision's challenger probe reads (`details.probe`, written by the ModelMonitor when it
 * scored, started or finished a probe; the trigger's `probe*` inputs when it only used one):
 * the probe's id, the challenger and its training window, the events compared, the gap with its
 * interval and verdict, and what the probe cost. Pure: reads the record's JSON.
 */
import type { ProbeProvenance } from '../probes/types.ts';
import { formatInstant, formatMoney } from './format.ts';

type Json = Record<string, unknown>;
const object = (v: unknown): Json | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
const number = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The lines that tell what a decision did with a probe; empty when it did nothing with one. */
export function probeStatement(details: unknown): string[] {
  const d = object(details);
  const probe = object(d?.probe);
  const lines: string[] = [];
  const started = object(probe?.started);
  if (started) {
    const challenger = object(started.challenger);
    const window = object(started.trainingWindow);
    const plan = object(started.plan);
    const from = window?.start === null ? 'all history' : formatInstant(number(window?.start));
    const trained = `on the training window ${from} → ${formatInstant(number(window?.end))}`;
    lines.push(
      challenger
        ? `probe ${text(started.id)} started (${text(plan?.kind) ?? 'probe'}): challenger ${text(challenger.version)} trained ${trained} on ${number(challenger.trainingRows) ?? '?'} labelled rows (lineage ${text(challenger.lineageId)}), registered as a probe, never served; cost ${formatMoney(number(started.cost) ?? 0)} (${text(started.costSource) ?? 'policy'})`
        : `probe ${text(started.id)} could not train a challenger ${trained}: ${text(started.error) ?? 'unknown error'}; cost ${formatMoney(number(started.cost) ?? 0)}`,
    );
    if (text(plan?.reason)) lines.push(`  why: ${text(plan?.reason)}`);
  }
  const scored = object(probe?.scored);
  if (scored) {
    const window = object(scored.window);
    lines.push(
      `probe ${text(scored.id)} scored: challenger ${text(scored.challengerVersion)} beside the champion on ${number(scored.events) ?? 0} paired events since ${formatInstant(number(window?.start))} (${number(scored.added) ?? 0} new in this window; shadow evaluation ${text(scored.evaluationId)})`,
    );
  }
  const result = object(probe?.result);
  if (result) lines.push(resultLine('finished', result));
  const abandoned = object(probe?.abandoned);
  if (abandoned) lines.push(`probe ${text(abandoned.id)} given up: ${text(abandoned.reason)}`);
  // A decision that only used a finished probe: the trigger's recorded inputs name it.
  if (lines.length === 0) {
    const inputs = object(d?.inputs);
    const id = text(inputs?.probeId);
    if (id !== null && text(inputs?.probeVerdict) !== null)
      lines.push(
        resultLine('used', {
          id,
          verdict: inputs?.probeVerdict,
          gap: inputs?.probeGap,
          lower: inputs?.probeGapLower,
          upper: inputs?.probeGapUpper,
          events: inputs?.probeEvents,
        }),
      );
  }
  return lines;
}

function resultLine(what: string, r: Json): string {
  const gap = number(r.gap);
  const lower = number(r.lower);
  const upper = number(r.upper);
  const measured =
    gap !== null && lower !== null && upper !== null
      ? `gap ${gap.toFixed(3)}${metricNote(text(r.metric))} (challenger − champion, 95% interval ${lower.toFixed(3)} to ${upper.toFixed(3)}) on ${number(r.events) ?? 0} paired events`
      : `no gap measured${text(r.error) ? ` (${text(r.error)})` : ''}`;
  const window =
    number(r.trainingEnd) !== null ? `; challenger trained to ${formatInstant(number(r.trainingEnd))}` : '';
  return `probe ${text(r.id)} ${what}: ${text(r.verdict)}, ${measured}${window}`;
}

/** The decision's reason with what its probe did (started, finished, given up), said once. */
export function withProbeSentence(reason: string, probe: ProbeProvenance): string {
  const parts: string[] = [];
  const r = probe.result;
  if (r && r.gap !== null && r.lower !== null && r.upper !== null)
    parts.push(
      `challenger probe ${r.id} finished: ${r.verdict}, gap ${r.gap.toFixed(3)}${metricNote(r.metric ?? null)} (95% interval ${r.lower.toFixed(3)} to ${r.upper.toFixed(3)}) on ${r.events} paired events`,
    );
  else if (r) parts.push(`challenger probe ${r.id} finished: ${r.verdict}${r.error ? ` (${r.error})` : ''}`);
  if (probe.abandoned) parts.push(`challenger probe ${probe.abandoned.id} given up: ${probe.abandoned.reason}`);
  const s = probe.started;
  if (s?.challenger)
    parts.push(
      `challenger probe started: ${s.challenger.version} trained on ${s.challenger.trainingRows} labelled rows, never served (probe cost ${formatMoney(s.cost)})`,
    );
  const said = parts.filter((p) => !reason.includes(p));
  return said.length === 0 ? reason : `${reason}; ${said.join('; ')}`;
}

/** Which quality a multiclass or regression probe's gap is in (a binary probe's is accuracy, unsaid). */
function metricNote(metric: string | null): string {
  return metric ? ` in ${metric} as quality` : '';
}

import { halfLifeEvidence } from '../detectors/decay/evidence.ts';
import { displayReason } from '../detectors/texts/decision-reason.ts';
import { decisionTexts } from '../detectors/texts/decision-view.ts';
import { formatEstimateHours, formatInstant } from '../detectors/texts/format.ts';
import type { DecisionRecord } from '../platform/clickhouse/decisions-repository.ts';

/**
 * A decision as an account a person can follow: what was decided, by whom, under which policy,
 * what the data showed, which guards applied, and how to replay it.
 */
export function renderDecision(d: DecisionRecord): string {
  const lines: string[] = [];
  const stats = (d.statistics ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const details = (d.details ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  lines.push(`Decision ${d.decisionId}`);
  lines.push(`  ${d.kind.toUpperCase()} for model ${d.modelId}${d.modelVersion ? `, version ${d.modelVersion}` : ''}`);
  lines.push(`  decided ${iso(d.decidedAt)} by ${d.actor}`);
  lines.push(`  workflow ${d.workflowId} (run ${d.runId})`);
  if (d.policy.name)
    lines.push(`  policy ${d.policy.name} v${d.policy.version} (sha256 ${d.policy.hash.slice(0, 16)}…)`);
  const texts = decisionTexts(d);
  lines.push('');
  lines.push(`Why: ${texts.reasonText}`);

  const window = stats.window;
  const quality = stats.quality;
  const drift = stats.drift;
  const dq = stats.dataQuality;
  const decay = stats.decay;
  const economics = stats.economics;
  if (window || drift || decay || economics) {
    lines.push('');
    lines.push('What it looked at:');
  }
  if (window) {
    lines.push(`  window ${iso(window.start)} → ${iso(window.end)}: ${fmt(window.events, 0)} events`);
  }
  if (quality) {
    const used = quality.used as string | null;
    const realised = quality.realised;
    const estimated = quality.estimated;
    if (realised?.value !== null && realised !== null && realised !== undefined) {
      const ci = realised.interval ? `, 95% CI ${fmt(realised.interval.lower)}–${fmt(realised.interval.upper)}` : '';
      lines.push(
        `  ${quality.metric} (realised from ${fmt(realised.n, 0)} labels): ${fmt(realised.value)}${ci}${used === 'realised' ? '  ← used' : ''}`,
      );
    }
    if (estimated?.value !== null && estimated !== null && estimated !== undefined) {
      lines.push(
        `  ${quality.metric} (estimated without labels, ${estimated.trustworthy ? 'calibration ok' : `not trusted: ${estimated.reasons.join('; ')}`}): ${fmt(estimated.value)}${used === 'estimated' ? '  ← used' : ''}`,
      );
    }
    if (!used) lines.push(`  ${quality.metric}: unknown in this window (too few labels, no trustworthy estimate)`);
    if (typeof quality.reason === 'string') lines.push(`  quality source: ${quality.reason}`);
  }
  if (drift) {
    const drifted = (drift.features as any[]).filter((f) => f.drifted); // eslint-disable-line @typescript-eslint/no-explicit-any
    lines.push(
      `  drift: ${drifted.length} of ${drift.n_tested ?? drift.features.length} columns drifted (BH-adjusted α ${drift.alpha}); dataset drift: ${drift.dataset_drift ? 'YES' : 'no'}`,
    );
    for (const f of drifted.slice(0, 8)) {
      const effects = [
        f.wasserstein ? `W/σ ${fmt(f.wasserstein.normalized)}` : '',
        f.psi !== undefined && f.psi !== null ? `PSI ${fmt(f.psi)}` : '',
        f.jensen_shannon !== undefined && f.jensen_shannon !== null ? `JS ${fmt(f.jensen_shannon)}` : '',
        f.linf !== undefined && f.linf !== null ? `L∞ ${fmt(f.linf)}` : '',
      ].filter(Boolean);
      lines.push(`    - ${f.name}: ${effects.join(', ')}; p(adj) ${sci(f.pvalue_adjusted)}`);
    }
    if (drifted.length > 8) lines.push(`    … and ${drifted.length - 8} more`);
  }
  if (dq) {
    // Revision 3 reports shift and small windows beside breakage; only breakage makes a window not ok.
    const alerts = (dq.alerts as string[] | undefined) ?? [];
    const verdict =
      dq.broken === undefined
        ? dq.ok
          ? 'ok'
          : 'ALERTS' // recorded before breakage and shift were told apart
        : dq.broken
          ? 'BROKEN'
          : alerts.length > 0
            ? 'ok (no breakage)'
            : 'ok';
    lines.push(`  data quality: ${verdict}${alerts.length > 0 ? `: ${alerts.join('; ')}` : ''}`);
  }
  if (stats.changePoint?.detected) lines.push('  change point: detected in the quality series (Page–Hinkley)');
  if (decay) {
    // The half-life only when the fit has the evidence for one (detectors/decay/evidence.ts).
    const evidence = halfLifeEvidence(decay);
    if (evidence.reportable)
      lines.push(
        `  decay: ${decay.model}, half-life ${formatEstimateHours(decay.halfLifeHours, decay.halfLifeInterval)}, fresh ${fmt(decay.q0)} → floor ${fmt(decay.floor)}`,
      );
    else lines.push(`  decay: ${decay.model}, no half-life reported (${evidence.reason})`);
    if (decay.timeToBreach && evidence.reportable)
      lines.push(
        `  time to SLO breach: ${decay.timeToBreach.hours === null ? 'not within reach' : decay.timeToBreach.hours === 0 ? 'already breached' : formatEstimateHours(decay.timeToBreach.hours)}`,
      );
  }
  if (economics && texts.economics) {
    // The one statement of the economics (detectors/texts): the deciding figure against the hurdle.
    const e = texts.economics;
    lines.push(`  economics: ${e.label} (${e.rule} rule): ${e.headline}`);
    for (const detail of e.details) lines.push(`    - ${detail}`);
  }
  if (texts.probe.length > 0) {
    // Challenger probes (rule revision 4): the measured gap the rule used, and what it cost.
    lines.push('');
    lines.push('Challenger probe:');
    for (const line of texts.probe) lines.push(`  ${line}`);
  }

  const guards = details.guards as { guard: string; passed: boolean; overridden: boolean; detail: string }[] | null;
  if (details.trigger || (guards && guards.length > 0)) {
    lines.push('');
    if (details.trigger)
      lines.push(
        `Trigger ${details.trigger.kind}: ${details.trigger.fired ? 'fired' : 'did not fire'} — ${displayReason(details.trigger.reason)}`,
      );
    for (const g of guards ?? [])
      lines.push(`  guard ${g.guard}: ${g.passed ? 'passed' : g.overridden ? 'overridden' : 'BLOCKED'} — ${g.detail}`);
  }
  if (d.thresholds && typeof d.thresholds === 'object' && Object.keys(d.thresholds).length > 0) {
    lines.push('');
    lines.push(
      `Thresholds: ${Object.entries(d.thresholds as Record<string, unknown>)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(', ')}`,
    );
  }
  const tw = d.trainingWindow as { kind?: string; start?: number | null; end?: number; reason?: string } | null;
  if (tw && tw.kind)
    lines.push(
      `Training window: ${tw.kind}, ${tw.start === null || tw.start === undefined ? 'all history' : iso(tw.start)} → ${tw.end ? iso(tw.end) : ''}${tw.reason ? ` (${tw.reason})` : ''}`,
    );
  if (d.lineageId)
    lines.push(
      `Training lineage: snapshot ${d.lineageId} (\`halflife audit trained-on ${d.modelId} ${d.modelVersion}\`)`,
    );
  lines.push('');
  lines.push(`Replay: halflife replay ${d.workflowId} --run ${d.runId}`);
  return lines.join('\n');
}

const iso = formatInstant;

function fmt(value: unknown, digits = 3): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value ?? '—');
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits === 0 ? 0 : Math.min(digits, 2),
  });
}

function sci(value: unknown): string {
  if (typeof value !== 'number') return '—';
  return value < 1e-3 ? value.toExponential(1) : value.toFixed(3);
}

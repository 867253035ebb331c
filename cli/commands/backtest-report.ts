/**
 * What `halflife backtest` prints: one run's report (JSON or text), or, for several policies,
 * each run and a comparison table ranked by true cost.
 */
import type { BacktestReport } from '../../detectors/backtest/types.ts';
import { displayReason } from '../../detectors/texts/decision-reason.ts';
import { formatInstant } from '../../detectors/texts/format.ts';
import { table } from '../output.ts';

/** What the report says about how the run was made. */
export interface ReportOptions {
  data: string;
  cadence: string;
  /** --window-rows, when windows are cut by row count. @default undefined */
  windowRows?: string;
  /** --window-period, when windows are calendar periods. @default undefined */
  windowPeriod?: string;
  labelDelay: string;
  plot?: string;
}

/** One policy's run and the file it came from. */
export interface RunInfo {
  report: BacktestReport;
  file: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round = (x: number | null, digits = 6): number | null => (x === null ? null : Number(x.toFixed(digits)));

export function reportJson(r: BacktestReport, opts: ReportOptions, policyFile?: string): unknown {
  return {
    data: opts.data,
    ...(policyFile === undefined ? {} : { policy_file: policyFile }),
    policy: r.policy,
    model: r.model,
    trainer: r.trainer,
    cadence: opts.cadence,
    windows_by: windowsBy(opts),
    label_delay: opts.labelDelay,
    reference: { start: iso(r.reference.start), end: iso(r.reference.end), rows: r.reference.rows },
    rows: r.rows,
    labelled_rows: r.labelledRows,
    decisions: r.decisions.map((d) => ({
      time: iso(d.time),
      kind: d.kind,
      reason: d.reason,
      version: d.version,
      ...(d.retrain
        ? {
            retrain: {
              new_version: d.retrain.newVersion,
              training_start: iso(d.retrain.trainingStart),
              training_end: iso(d.retrain.trainingEnd),
              training_rows: d.retrain.trainingRows,
              validation_rows: d.retrain.validationRows,
              window_rows: d.retrain.windowRows,
              fresh_quality: round(d.retrain.freshQuality),
              ...(d.retrain.servesNothing ? { serves_nothing: true } : {}),
              ...(d.retrain.error ? { error: d.retrain.error } : {}),
            },
          }
        : {}),
    })),
    retrains: r.retrains,
    failed_retrains: r.failedRetrains,
    probes: r.probes,
    true_cost: round(r.trueCost),
    true_cost_parts:
      r.trueCostParts === null
        ? null
        : {
            staleness: round(r.trueCostParts.staleness),
            retrains: round(r.trueCostParts.retrains),
            retrains_serving_nothing: r.trueCostParts.retrainsServingNothing,
            unlabelled_windows: r.trueCostParts.unlabelledWindows,
            probes: r.trueCostParts.probes ?? 0,
            probe_cost: round(r.trueCostParts.probeCost ?? 0),
          },
    total_cost: round(r.totalCost),
    staleness_cost: round(r.stalenessCost),
    retrain_cost: round(r.retrainCost),
    cost_model:
      r.costModel === null
        ? null
        : {
            value_per_quality_unit: r.costModel.valuePerQualityUnit,
            retrain_cost: r.costModel.retrainCost,
            risk_cost: r.costModel.riskCost,
          },
    versions: r.versions.map((v) => ({
      version: v.version,
      trained_at: iso(v.trainedAt),
      fresh_quality: round(v.freshQuality),
      source: v.source,
      training_rows: v.trainingRows,
      validation_rows: v.validationRows,
    })),
    windows: r.windows.map((w) => ({
      start: iso(w.start),
      end: iso(w.end),
      events: w.events,
      labelled: w.labelled,
      labelled_at_close: w.labelledAtClose,
      version: w.version,
      quality: round(w.quality),
      hindsight_quality: round(w.hindsightQuality),
      estimated_quality: round(w.estimatedQuality),
      estimate: w.estimate
        ? {
            metric: w.estimate.metric,
            value: round(w.estimate.value),
            lower: round(w.estimate.lower),
            upper: round(w.estimate.upper),
            threshold: w.estimate.threshold,
            trustworthy: w.estimate.trustworthy,
            realised: round(w.estimate.realised),
            reference_estimate: round(w.estimate.referenceEstimate),
            alert: w.estimate.alert,
          }
        : null,
      quality_used: w.qualityUsed,
      ...(w.qualityReason === undefined ? {} : { quality_reason: w.qualityReason }),
      ...(w.qualityUsedValue === undefined ? {} : { quality_used_value: round(w.qualityUsedValue) }),
      ...(w.qualityPooledWindows === undefined ? {} : { quality_pooled_windows: w.qualityPooledWindows }),
      drift:
        w.drift === null
          ? null
          : {
              detected: w.drift.detected,
              drifted_share: round(w.drift.driftedShare),
              drifted_features: w.drift.driftedFeatures,
            },
      data_quality: w.dataQuality,
      staleness_cost: round(w.stalenessCost),
      true_cost: round(w.trueCost),
      ...(w.probe === undefined ? {} : { probe: probeJson(w.probe) }),
    })),
  };
}

/** A window's challenger probe: started (why, on which training window), scored, finished (gap, interval, verdict). */
function probeJson(p: NonNullable<BacktestReport['windows'][number]['probe']>) {
  return {
    id: p.id,
    ...(p.started
      ? {
          started: {
            kind: p.started.kind,
            reason: p.started.reason,
            value: round(p.started.value),
            cost: round(p.started.cost),
            training_start: iso(p.started.trainingStart),
            training_end: iso(p.started.trainingEnd),
            training_rows: p.started.trainingRows,
          },
        }
      : {}),
    ...(p.scored === undefined ? {} : { scored: p.scored }),
    ...(p.result
      ? {
          result: {
            verdict: p.result.verdict,
            events: p.result.events,
            windows: p.result.windows,
            champion: round(p.result.champion),
            challenger: round(p.result.challenger),
            gap: round(p.result.gap),
            interval: { lower: round(p.result.lower), upper: round(p.result.upper), level: p.result.level },
            ...(p.result.error ? { error: p.result.error } : {}),
          },
        }
      : {}),
  };
}

const money = (x: number | null): string =>
  x === null ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: 2 });
const q = (x: number | null): string => (x === null ? '—' : x.toFixed(4));

function meanHindsight(r: BacktestReport): number | null {
  const measured = r.windows.filter((w) => w.hindsightQuality !== null);
  const events = measured.reduce((s, w) => s + w.events, 0);
  return events > 0 ? measured.reduce((s, w) => s + w.events * (w.hindsightQuality as number), 0) / events : null;
}

export function renderReport(r: BacktestReport, opts: ReportOptions, _policyFile?: string): string {
  const measured = r.windows.filter((w) => w.quality !== null);
  const qualities = measured.map((w) => w.quality as number);
  const mean = qualities.length > 0 ? qualities.reduce((a, b) => a + b, 0) / qualities.length : null;
  const broken = r.windows.filter((w) => w.dataQuality.broken).length;
  const lines = [
    `backtest: policy ${r.policy.name} v${r.policy.version} (${r.policy.trigger}) on ${opts.data}`,
    `  ${r.rows} rows (${r.labelledRows} labelled), reference ${formatInstant(r.reference.start)} → ${formatInstant(r.reference.end)} (${r.reference.rows} rows), ${r.windows.length} ${windowsText(opts)}${r.labelDelayMs > 0 ? `, labels arrive ${opts.labelDelay} late` : ''}`,
    `  trainer: ${r.trainer}; first model: ${r.versions[0]?.source === 'file' ? "the file's scores" : 'trained on the reference period'}`,
    '',
    `retrains: ${r.retrains}${r.failedRetrains > 0 ? ` (+${r.failedRetrains} failed)` : ''}${r.trueCostParts && r.trueCostParts.retrainsServingNothing > 0 ? ` (${r.trueCostParts.retrainsServingNothing} decided as the last window closed: serves nothing)` : ''}`,
    r.costModel === null
      ? 'cost: not priced (pass --value-per-quality-unit and --retrain-cost, or use a cost-aware policy)'
      : `true cost: ${money(r.trueCost)}  (errors ${money(r.trueCostParts?.staleness ?? null)} + retraining ${money(r.trueCostParts?.retrains ?? null)}; quality in hindsight, every label)`,
    ...(r.costModel === null
      ? []
      : [
          `cost: staleness ${money(r.stalenessCost)} + retraining ${money(r.retrainCost)} = total ${money(r.totalCost)}  (${r.costModel.valuePerQualityUnit} per event per quality unit; ${r.costModel.retrainCost} + risk ${r.costModel.riskCost} per retrain; staleness against each version's own validation quality)`,
        ]),
    `quality (${measured.length} measured windows): first ${q(qualities[0] ?? null)}, mean ${q(mean)}, min ${q(qualities.length > 0 ? Math.min(...qualities) : null)}, last ${q(qualities.at(-1) ?? null)}`,
    `data quality: ${broken} broken window(s) of ${r.windows.length}`,
    '',
  ];
  const notable = r.decisions.filter((d) => d.kind !== 'no-action');
  lines.push(
    notable.length === 0
      ? 'decisions: no action in every window'
      : `decisions other than no-action (${notable.length} of ${r.decisions.length}):`,
  );
  if (notable.length > 0)
    lines.push(
      table(
        ['time', 'kind', 'reason'],
        notable.map((d) => [
          formatInstant(d.time),
          d.kind === 'retrain' ? `retrain → ${d.retrain?.newVersion}` : d.kind,
          displayReason(d.reason),
        ]),
        { wrap: [2] },
      ),
    );

  // Quality over time, in about 24 rows whatever the length of the history.
  const per = Math.max(1, Math.ceil(r.windows.length / 24));
  const rows: (string | number)[][] = [];
  for (let i = 0; i < r.windows.length; i += per) {
    const group = r.windows.slice(i, i + per);
    const qs = group.filter((w) => w.quality !== null).map((w) => w.quality as number);
    const cost = group.reduce((s, w) => s + (w.stalenessCost ?? 0), 0);
    rows.push([
      formatInstant(group[0]?.start ?? 0),
      group.reduce((s, w) => s + w.events, 0),
      q(qs.length > 0 ? qs.reduce((a, b) => a + b, 0) / qs.length : null),
      group.filter((w) => w.drift?.detected).length,
      group.filter((w) => w.dataQuality.broken).length,
      [...new Set(group.map((w) => w.version))].join(' '),
      r.costModel === null ? '—' : money(cost),
    ]);
  }
  lines.push(
    '',
    `quality over time (${per} window${per > 1 ? 's' : ''} per row):`,
    table(['from', 'events', 'quality', 'drifted windows', 'broken windows', 'version', 'staleness cost'], rows),
    ...estimateLines(r),
  );
  return lines.join('\n');
}

/** How the windows were cut, in the JSON report. */
function windowsBy(opts: ReportOptions): { rows: number } | { period: string } | { duration: string } {
  if (opts.windowRows !== undefined) return { rows: Number(opts.windowRows) };
  if (opts.windowPeriod !== undefined) return { period: opts.windowPeriod };
  return { duration: opts.cadence };
}

/** "windows of 1h", "windows of 5000 rows", "calendar weeks (UTC)". */
function windowsText(opts: ReportOptions): string {
  if (opts.windowRows !== undefined) return `windows of ${opts.windowRows} rows`;
  if (opts.windowPeriod !== undefined) return `windows of a calendar ${opts.windowPeriod} (UTC)`;
  return `windows of ${opts.cadence}`;
}

/**
 * The label-free estimate beside realised, per window (about 24 rows, the windows with an alert
 * always shown), and how far off it was on average.
 */
function estimateLines(r: BacktestReport): string[] {
  const estimated = r.windows.filter((w) => w.estimate);
  if (estimated.length === 0) return [];
  const first = estimated[0]!.estimate!;
  const metric = first.metric === 'auc' ? 'ROC AUC' : first.metric;
  const errors = estimated
    .filter((w) => w.estimate!.realised !== null)
    .map((w) => Math.abs(w.estimate!.value - (w.estimate!.realised as number)));
  const inside = estimated.filter(
    (w) =>
      w.estimate!.realised !== null &&
      w.estimate!.lower !== null &&
      w.estimate!.upper !== null &&
      (w.estimate!.realised as number) >= w.estimate!.lower &&
      (w.estimate!.realised as number) <= w.estimate!.upper,
  ).length;
  const alerts = estimated.filter((w) => w.estimate!.alert !== null);
  const per = Math.max(1, Math.ceil(estimated.length / 24));
  const shown = estimated.filter((w, i) => i % per === 0 || w.estimate!.alert !== null);
  const band = (e: NonNullable<BacktestReport['windows'][number]['estimate']>) =>
    e.lower === null || e.upper === null ? '—' : `[${e.lower.toFixed(4)}, ${e.upper.toFixed(4)}]`;
  return [
    '',
    `label-free estimate (CBPE) of ${metric}${first.metric === 'accuracy' ? ` at threshold ${first.threshold}` : ''} beside realised (every label, in hindsight): ${estimated.length} windows, mean absolute error ${q(errors.length > 0 ? errors.reduce((a, b) => a + b, 0) / errors.length : null)}, realised inside the 95% interval in ${inside} of ${errors.length}; estimate alerts in ${alerts.length} window(s)${per > 1 ? ` (every ${per}th window shown, and each alert)` : ''}:`,
    table(
      ['from', 'estimated', '95% interval', 'realised', 'alert'],
      shown.map((w) => [
        formatInstant(w.start),
        q(w.estimate!.value),
        band(w.estimate!),
        q(w.estimate!.realised),
        w.estimate!.alert ?? (w.estimate!.trustworthy ? '' : 'not trustworthy'),
      ]),
      { wrap: [4] },
    ),
  ];
}

/** One row per policy, cheapest true cost first (then by total cost, then by name). */
export function comparisonRows(runs: readonly RunInfo[]) {
  return runs
    .map(({ report: r, file }) => ({
      policy: r.policy.name,
      version: r.policy.version,
      trigger: r.policy.trigger,
      file,
      retrains: r.retrains,
      failedRetrains: r.failedRetrains,
      blocked: r.decisions.filter((d) => d.kind === 'blocked').length,
      meanQuality: meanHindsight(r),
      trueCost: r.trueCost,
      totalCost: r.totalCost,
    }))
    .sort(
      (a, b) =>
        (a.trueCost ?? Infinity) - (b.trueCost ?? Infinity) ||
        (a.totalCost ?? Infinity) - (b.totalCost ?? Infinity) ||
        a.policy.localeCompare(b.policy),
    );
}

export function comparisonJson(runs: readonly RunInfo[], opts: ReportOptions): unknown {
  const first = runs[0]?.report;
  const cheapest = comparisonRows(runs)[0];
  return {
    data: opts.data,
    cadence: opts.cadence,
    label_delay: opts.labelDelay,
    cost_model:
      first?.costModel == null
        ? null
        : {
            value_per_quality_unit: first.costModel.valuePerQualityUnit,
            retrain_cost: first.costModel.retrainCost,
            risk_cost: first.costModel.riskCost,
          },
    comparison: comparisonRows(runs).map((c, i) => ({
      rank: i + 1,
      policy: c.policy,
      version: c.version,
      trigger: c.trigger,
      policy_file: c.file,
      retrains: c.retrains,
      failed_retrains: c.failedRetrains,
      blocked_decisions: c.blocked,
      mean_quality: round(c.meanQuality),
      true_cost: round(c.trueCost),
      true_cost_ratio_to_best:
        c.trueCost === null || cheapest?.trueCost == null || cheapest.trueCost <= 0
          ? null
          : round(c.trueCost / cheapest.trueCost, 4),
      total_cost: round(c.totalCost),
    })),
    runs: runs.map((run) => reportJson(run.report, opts, run.file)),
  };
}

export function renderComparison(runs: readonly RunInfo[], opts: ReportOptions): string {
  const rows = comparisonRows(runs);
  const best = rows[0]?.trueCost ?? null;
  const first = runs[0]?.report;
  const lines = [
    `backtest: ${runs.length} policies on ${opts.data}, ${windowsText(opts)}${opts.labelDelay !== '0s' ? `, labels ${opts.labelDelay} late` : ''}`,
    first?.costModel == null
      ? 'costs: not priced (pass --value-per-quality-unit and --retrain-cost, or include a cost-aware policy)'
      : `priced alike: ${first.costModel.valuePerQualityUnit} per event per quality unit; ${first.costModel.retrainCost} + risk ${first.costModel.riskCost} per retrain`,
    '',
    'ranked by true cost (errors in hindsight + retrains; policy-independent):',
    table(
      ['#', 'policy', 'trigger', 'retrains', 'blocked', 'mean quality', 'true cost', '× best', 'total cost'],
      rows.map((c, i) => [
        i + 1,
        `${c.policy} v${c.version}`,
        c.trigger,
        `${c.retrains}${c.failedRetrains > 0 ? ` (+${c.failedRetrains} failed)` : ''}`,
        c.blocked,
        q(c.meanQuality),
        money(c.trueCost),
        c.trueCost === null || best === null || best <= 0 ? '—' : (c.trueCost / best).toFixed(3),
        money(c.totalCost),
      ]),
    ),
    '',
    'total cost is policy-relative (staleness against each version’s own validation quality): shown, not ranked by.',
  ];
  if (opts.plot) lines.push(`chart: ${opts.plot}`);
  return lines.join('\n');
}

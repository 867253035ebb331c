/* global CSS */
// Shadow evaluations of multiclass and regression challengers on the model page: for each, the
// mean per-event loss of champion and challenger on the same labelled events, the improvement
// d = champion's − challenger's loss with the interval the verdict computed (paired bootstrap)
// beside the paired t and the stored pairs' normal interval, the bar it had to clear, how many
// pairs and from where (live or replayed, and why), how the pairs split and how d spreads, the
// guardrails, the verdict's reasons, and the running mean of d with its interval over the pairs
// (does the verdict rest on a settled estimate, or would more pairs change it?).
import { intervalPlot, runningMeanChart } from './charts.js';
import { h, instant, kindBadge, pct, versionColor } from './util.js';

const LOSS_NAMES = {
  logLoss: 'log loss',
  accuracy: '0/1 error',
  squaredError: 'squared error',
  absoluteError: 'absolute error',
};
const lossName = (loss) => LOSS_NAMES[loss] ?? loss;
const METHODS = { 'paired-bootstrap-percentile': 'paired bootstrap, percentile' };

/** Three significant digits; tiny values in exponent form (a log-loss gain of 0.0004 must not read 0.00). */
export const figure = (v) => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return Math.abs(v) >= 0.001 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(3))) : v.toExponential(2);
};
const count = (n) => Number(n).toLocaleString('en-US');
const interval = (lo, hi) => (lo === null || hi === null ? '' : ` [${figure(lo)}, ${figure(hi)}]`);

/** The decisions the panel shows, so the binary comparisons leave them out. */
export function lossDecisionIds(evaluations) {
  return new Set(evaluations.map((e) => e.decision?.decisionId).filter(Boolean));
}

/** The panel, or null when the model has no stored multiclass or regression evaluation. */
export function lossEvaluationsPanel(modelId, evaluations) {
  if (!evaluations?.length) return null;
  return h(
    'section',
    { class: 'panel', id: 'loss-evaluations' },
    h('h2', null, 'Shadow evaluations on per-event loss'),
    h(
      'p',
      { class: 'sub' },
      "Challenger against champion on the same labelled events, from the pairs stored in shadow_outcome_results: per event d = champion's loss − challenger's loss (positive: the challenger did better). The verdict promotes only when its whole interval (paired bootstrap) clears the bar and the guardrails pass; it rejects when the interval lies wholly below the bar or a guardrail fails; otherwise it is inconclusive.",
    ),
    [...evaluations].reverse().map((e) => evaluationView(modelId, e)),
  );
}

/** Draws each evaluation's running-mean chart once the panel is in the document; returns the charts. */
export function drawLossEvaluations(root, evaluations) {
  const charts = {};
  for (const e of evaluations ?? []) {
    const el = root.querySelector(`.loss-running[data-evaluation="${CSS.escape(e.evaluationId)}"]`);
    if (!el || !e.running?.length) continue;
    const imp = e.decision?.verdict?.statistics?.improvement ?? null;
    charts[`loss-${e.evaluationId}`] = runningMeanChart(el, {
      points: e.running,
      bar: e.decision?.verdict?.statistics?.bar ?? null,
      barLabel: e.decision?.verdict?.statistics?.test === 'non-inferiority' ? 'margin' : 'bar',
      level: `${Math.round((e.decision?.verdict?.statistics?.level ?? e.level) * 100)}%`,
      verdict: imp ? { improvement: imp.improvement, lower: imp.lower, upper: imp.upper } : null,
      yLabel: `mean d (${lossName(e.loss)})`,
      format: figure,
    });
  }
  return charts;
}

function evaluationView(modelId, e) {
  const decision = e.decision;
  const verdict = decision?.verdict ?? null;
  const stats = verdict?.statistics ?? null;
  const imp = stats?.improvement ?? null;
  const accuracy = e.loss === 'accuracy';
  const levelPct = Math.round((stats?.level ?? e.level) * 100);
  const bar = stats && Number.isFinite(stats.bar) ? stats.bar : null;

  const rows = [];
  if (imp)
    rows.push({
      label: 'verdict (paired bootstrap)',
      value: imp.improvement,
      lower: imp.lower,
      upper: imp.upper,
      color: '#1d2430',
    });
  if (stats?.pairedT)
    rows.push({
      label: 'paired t',
      value: stats.pairedT.improvement,
      lower: stats.pairedT.lower,
      upper: stats.pairedT.upper,
      color: '#748ffc',
    });
  rows.push({
    label: 'stored pairs (normal)',
    value: e.difference.value,
    lower: e.difference.lower ?? NaN,
    upper: e.difference.upper ?? NaN,
    color: versionColor(e.candidate),
  });
  const refs = [{ at: 0, label: 'no change', color: '#868e96' }];
  if (bar !== null && bar !== 0)
    refs.push({
      at: bar,
      label: `${stats.test === 'non-inferiority' ? 'margin' : 'bar'} ${figure(bar)}`,
      color: '#c53030',
      dash: true,
    });

  return h(
    'div',
    {
      class: 'comparison loss-evaluation',
      'data-evaluation': e.evaluationId,
      'data-kind': e.kind,
      'data-source': e.source,
      'data-verdict': verdict?.decision ?? '',
      'data-decision': decision?.decisionId ?? '',
    },
    h(
      'h2',
      null,
      `${e.candidate} vs ${e.champion} `,
      decision ? kindBadge(decision.kind) : h('span', { class: 'badge k-no-action' }, 'no decision'),
      ' ',
      h('span', { class: 'badge h-unknown' }, `${e.kind} · ${lossName(e.loss)}`),
      ' ',
      h('span', { class: 'muted', style: { fontWeight: 400, fontSize: '13px' } }, instant(e.to)),
    ),
    h(
      'p',
      { class: 'sub verdict-line' },
      verdict
        ? `verdict: ${verdict.decision} · ${stats.test} test, ${levelPct}% CI (${METHODS[imp?.method] ?? imp?.method ?? 'no interval'}) · ${count(stats.n)} paired events${stats.mcnemar ? ` · McNemar p = ${figure(stats.mcnemar.pValue)} (b = ${stats.mcnemar.championOnlyCorrect}, c = ${stats.mcnemar.challengerOnlyCorrect})` : ''}`
        : 'No promote, reject or rollback decision names this evaluation (a dark launch, or a retrain still running).',
    ),
    h(
      'div',
      { class: 'grid2' },
      h(
        'div',
        null,
        figuresTable(e, imp, accuracy),
        pairsSplit(e),
        guardrailList(stats?.guardrails),
        verdict?.reasons?.length
          ? h(
              'ul',
              { class: 'loss-reasons' },
              verdict.reasons.map((r) => h('li', null, r)),
            )
          : null,
        decision
          ? h(
              'p',
              null,
              h(
                'a',
                { href: `#/model/${encodeURIComponent(modelId)}/decision/${encodeURIComponent(decision.decisionId)}` },
                'provenance of this decision',
              ),
            )
          : null,
      ),
      h(
        'div',
        null,
        intervalPlot(rows, {
          refs,
          unit: '',
          format: figure,
          axisLabel: `improvement: mean d, ${lossName(e.loss)} (${levelPct}% intervals)`,
        }),
        e.running?.length
          ? h(
              'div',
              null,
              h(
                'p',
                { class: 'sub' },
                `Running mean of d over the first n pairs with its ${levelPct}% paired t band (pairs in a fixed pseudo-random order); black at the end: the verdict's interval.`,
              ),
              h('div', { class: 'chart loss-running', 'data-evaluation': e.evaluationId }),
            )
          : null,
      ),
    ),
  );
}

function figuresTable(e, imp, accuracy) {
  const name = lossName(e.loss);
  const cell = (v) => h('td', { class: 'num' }, figure(v));
  const rows = [
    h(
      'tr',
      { 'data-row': 'mean-loss' },
      h('td', null, `mean ${name} (stored pairs)`),
      cell(e.meanLoss.champion),
      cell(e.meanLoss.candidate),
      h('td', { class: 'num' }, `${figure(e.difference.value)}${interval(e.difference.lower, e.difference.upper)}`),
    ),
  ];
  if (accuracy)
    rows.push(
      h(
        'tr',
        { 'data-row': 'accuracy' },
        h('td', null, 'accuracy'),
        h('td', { class: 'num' }, pct(1 - e.meanLoss.champion)),
        h('td', { class: 'num' }, pct(1 - e.meanLoss.candidate)),
        h('td', { class: 'num' }, `${(e.difference.value * 100).toFixed(1)} pp`),
      ),
    );
  if (imp)
    rows.push(
      h(
        'tr',
        { 'data-row': 'verdict' },
        h('td', null, `verdict's ${accuracy ? 'accuracy' : name}`),
        cell(imp.champion),
        cell(imp.challenger),
        h('td', { class: 'num' }, `${figure(imp.improvement)}${interval(imp.lower, imp.upper)}`),
      ),
    );
  rows.push(h('tr', { 'data-row': 'pairs' }, h('td', null, 'paired events'), h('td', { colspan: 3 }, pairsText(e))));
  return h(
    'table',
    { class: 'loss-figures' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', null, ''),
        h('th', null, `${e.champion} (champion)`),
        h('th', null, `${e.candidate} (challenger)`),
        h('th', null, 'improvement d'),
      ),
    ),
    h('tbody', null, rows),
  );
}

/** How many pairs, from where, and (a live shadow) why that source. */
function pairsText(e) {
  const live = e.decision?.live ?? null;
  const where =
    e.source === 'live'
      ? 'the requests both versions served while the challenger was in shadow'
      : 'stored labelled events both versions re-scored';
  return h(
    'span',
    { class: 'pairs-source' },
    h('strong', null, `${count(e.n)} pairs, ${e.source === 'replay' ? 'replayed' : e.source}`),
    ` — ${where}`,
    live ? h('span', { class: 'muted' }, ` · ${live.reason}`) : null,
  );
}

/** Where the challenger won, lost and tied, as a stacked bar, and the spread of d. */
function pairsSplit(e) {
  const { challengerLower, challengerHigher, tied, quantiles } = e.pairs;
  const share = (n) => (e.n > 0 ? n / e.n : 0);
  const part = (n, color, label) =>
    n > 0
      ? h('span', { style: { flex: String(n), background: color }, title: `${label}: ${count(n)} (${pct(share(n))})` })
      : null;
  const spread = quantiles
    .map((q) => `${q.q === 0.5 ? 'median' : `${Math.round(q.q * 100)}%`} ${figure(q.value)}`)
    .join(' · ');
  return h(
    'div',
    { class: 'pairs-split' },
    h(
      'div',
      { class: 'split-bar', role: 'img', 'aria-label': 'pairs split' },
      part(challengerLower, '#2f9e44', 'challenger lower loss'),
      part(tied, '#ced4da', 'tied'),
      part(challengerHigher, '#c92a2a', 'challenger higher loss'),
    ),
    h(
      'p',
      { class: 'sub', 'data-split': `${challengerLower}/${tied}/${challengerHigher}` },
      `Challenger's loss lower on ${count(challengerLower)} (${pct(share(challengerLower))}), tied on ${count(tied)}, higher on ${count(challengerHigher)} (${pct(share(challengerHigher))}). d percentiles: ${spread}.`,
    ),
  );
}

function guardrailList(g) {
  if (!g) return null;
  const items = [];
  if (g.latencyP99Ratio !== null && g.latencyP99Ratio !== undefined)
    items.push(
      `latency p99: challenger ${figure(g.challengerLatencyP99Ms)} ms, champion ${figure(g.championLatencyP99Ms)} ms (${figure(g.latencyP99Ratio)}×)`,
    );
  if (g.errorRateIncrease !== null && g.errorRateIncrease !== undefined)
    items.push(
      `error rate: challenger ${pct(g.challengerErrorRate, 2)}, champion ${pct(g.championErrorRate, 2)} (+${pct(g.errorRateIncrease, 2)})`,
    );
  return h(
    'div',
    { class: 'guardrails', 'data-violations': String(g.violations.length) },
    h(
      'div',
      { class: 'sub' },
      h('strong', null, 'Guardrails: '),
      g.violations.length
        ? h('span', { class: 'delivery-bad' }, 'failed')
        : h('span', { class: 'delivery-ok' }, 'passed'),
    ),
    h(
      'ul',
      { class: 'guardrail-list' },
      items.map((t) => h('li', null, t)),
      g.violations.map((t) => h('li', { class: 'delivery-bad' }, t)),
      g.notEvaluated.map((t) => h('li', { class: 'muted' }, `not evaluated: ${t}`)),
    ),
  );
}

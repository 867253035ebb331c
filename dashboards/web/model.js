/* global location, Event */
// Model view: quality per version with the fitted decay curve, drift heatmap, data quality,
// ingest, decision timeline (click → provenance), the shadow/canary comparisons and (multiclass,
// regression) the shadow evaluations on per-event loss.
import { alertsPanel } from './alerts.js';
import { drawLossEvaluations, lossDecisionIds, lossEvaluationsPanel } from './loss-evaluations.js';
import { multivariatePanel } from './multivariate.js';
import { segmentsPanel } from './segments.js';
import { api, app } from './api.js';
import { decayChart, decisionTimeline, destroy, driftHeatmap, intervalPlot, timeChart } from './charts.js';
import {
  barText,
  duration,
  estimateHours,
  fixed,
  h,
  healthBadge,
  instant,
  kindBadge,
  pct,
  qualityLabel,
  relative,
  versionColor,
} from './util.js';

let signature = '';
let showNoAction = false;

const openDecision = (model, id) =>
  (location.hash = `#/model/${encodeURIComponent(model)}/decision/${encodeURIComponent(id)}`);

export async function renderModel(main, modelId, { full }) {
  const d = await api(`/v1/dashboard/models/${encodeURIComponent(modelId)}`);
  document.getElementById('crumbs').replaceChildren(h('a', { href: '#/' }, 'Fleet'), ' / ', h('span', null, modelId));
  // Only rebuild when something new was recorded; otherwise the page (and what the user is looking at) stays.
  const sig = JSON.stringify([
    modelId,
    d.windows.length,
    d.windows.at(-1)?.decisionId,
    d.decisions[0]?.decisionId,
    d.versions.map((v) => v.stage),
    d.health,
    d.stage,
    d.segments?.decisionId,
    d.serving?.agreement,
    d.serving?.scoredBy,
    showNoAction,
  ]);
  if (!full && sig === signature && main.querySelector('#page-model')) return;
  signature = sig;
  for (const chart of Object.values(app.charts)) destroy(chart);
  app.charts = {};

  const serving = d.versions.find((v) => v.stage === 'production');
  const lastWindow = d.windows.at(-1);
  const latest = d.decay.latest;
  const fit = latest?.fit;
  const halfLife = latest?.halfLife;
  const ttb = latest?.timeToBreach;
  const slo = fit?.timeToBreach?.slo ?? null;
  const econ = d.economics;
  const statement = econ?.statement ?? null;
  const lastDecision = d.decisions[0];
  const windowText = d.windowMs ? `${duration(d.windowMs)} window` : 'window';
  const bucketText = duration(d.ingestBucketMs ?? 3_600_000);

  const cards = h(
    'div',
    { class: 'cards' },
    servingCard(d.serving, serving),
    card(
      'Quality (last window)',
      lastWindow?.quality ? pct(lastWindow.quality.value) : '–',
      h(
        'span',
        null,
        lastWindow?.quality
          ? `${qualityLabel(lastWindow.quality.metric)}, ${lastWindow.quality.source}${lastWindow.realised?.interval ? `, 95% CI ${pct(lastWindow.realised.interval.lower)}–${pct(lastWindow.realised.interval.upper)}` : ''}${figureText(lastWindow.quality.metric, lastWindow.realised?.figure)}`
          : 'no quality yet',
        estimateText(lastWindow),
      ),
    ),
    card(
      'Half-life',
      halfLife?.reportable ? halfLife.text.split(' (')[0] : fit?.model === 'none' ? 'no decay' : '–',
      halfLife ? `${latest.version}: ${halfLife.reportable ? halfLife.text : halfLife.reason}` : 'no decay fit yet',
      { id: 'card-halflife' },
    ),
    card(
      'Time to SLO breach',
      !ttb || !halfLife?.reportable
        ? '–'
        : ttb.hours === null
          ? 'never'
          : ttb.hours === 0
            ? 'breached'
            : `in ${estimateHours(ttb.hours)}`,
      ttb && halfLife?.reportable
        ? `SLO ${pct(ttb.slo, 0)}${ttb.at ? `, at ${instant(ttb.at)}` : ''}`
        : ttb
          ? 'not predicted until the decay fit has the evidence'
          : '',
    ),
    card(
      'Retrain economics',
      statement ? statement.label : '–',
      statement
        ? h(
            'span',
            null,
            statement.headline,
            h(
              'a',
              { href: decisionHref(modelId, econ.decisionId), class: 'more', title: statement.text },
              `why (${econ.decisionKind}, ${relative(econ.decidedAt)})`,
            ),
          )
        : 'no cost-aware decision yet',
      { id: 'card-economics', 'data-verdict': statement?.verdict ?? '' },
    ),
    card(
      'Last decision',
      lastDecision ? lastDecision.kind : '–',
      lastDecision
        ? h(
            'span',
            null,
            `${relative(lastDecision.at)} · ${firstClause(lastDecision.reasonText)}`,
            firstClause(lastDecision.reasonText) === lastDecision.reasonText
              ? null
              : h('a', { href: decisionHref(modelId, lastDecision.decisionId), class: 'more' }, 'the whole reason'),
          )
        : '',
      { id: 'card-last-decision' },
    ),
  );

  // Quality over time, one series per version.
  const versions = [...new Set(d.windows.map((w) => w.version))];
  const qualityEl = h('div', { class: 'chart', id: 'chart-quality' });
  const decayEl = h('div', { class: 'chart', id: 'chart-decay' });
  const halfLifeLabel = halfLife
    ? h(
        'span',
        {
          class: halfLife.reportable ? 'halflife-label' : 'halflife-label pending',
          id: 'halflife-label',
          'data-halflife-hours': halfLife.reportable ? halfLife.hours : '',
        },
        halfLife.reportable
          ? `Half-life of ${latest.version}: ${halfLife.text}`
          : `${latest.version}: no half-life yet — ${halfLife.reason}`,
      )
    : h('span', { class: 'muted', id: 'halflife-label' }, 'no decay fit yet');
  const dqEl = h('div', { class: 'chart', id: 'chart-data-quality' });
  const ingestEl = h('div', { class: 'chart', id: 'chart-ingest' });
  const heatEl = h('div', { id: 'heatmap-wrap' });
  const timelineEl = h('div', { class: 'timeline', id: 'timeline' });

  const page = h(
    'div',
    { id: 'page-model', 'data-model': modelId },
    h(
      'h1',
      null,
      modelId,
      healthBadge(d.health),
      h('span', { class: 'badge h-unknown' }, d.stage),
      h(
        'span',
        { class: 'muted', style: { fontSize: '13px', fontWeight: 400 } },
        d.live ? 'live status from the monitor workflow' : 'status derived from the last recorded window',
      ),
    ),
    cards,
    alertsPanel({ model: modelId }),
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'panel' },
        h('div', { class: 'chart-title' }, h('h2', null, 'Quality over time')),
        h(
          'p',
          { class: 'sub' },
          `Quality per ${windowText} (realised from labels, else estimated), coloured by the version that served it; dashed red: SLO. Where the label-free estimate (CBPE) exists it is drawn beside realised, with its 95% band.`,
        ),
        qualityEl,
      ),
      h(
        'section',
        { class: 'panel' },
        h('div', { class: 'chart-title' }, h('h2', null, 'Decay: quality by version age'), halfLifeLabel),
        h(
          'p',
          { class: 'sub' },
          "Observed windows and each version's latest decay fit, drawn over the ages it was observed at; solid with its 90% band: the version in service.",
        ),
        decayEl,
      ),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', null, 'Drift by feature and window'),
      h(
        'p',
        { class: 'sub' },
        `Last ${Math.min(72, d.windows.length)} windows against the serving version's reference. Hover a cell for its statistics.`,
      ),
      heatEl,
    ),
    multivariatePanel(d.windows),
    segmentsPanel(d.segments),
    h(
      'div',
      { class: 'grid2' },
      h(
        'section',
        { class: 'panel' },
        h('h2', null, 'Data quality'),
        h('p', { class: 'sub' }, 'Missing-value rate per feature and dead-letter rate per window (%).'),
        dqEl,
        dataQualityAlerts(d.windows),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', null, 'Ingest'),
        h(
          'p',
          { class: 'sub', id: 'ingest-sub' },
          `Scoring events, labelled events and dead letters per ${bucketText}; the bucket in progress appears once it closes.`,
        ),
        ingestEl,
      ),
    ),
    h(
      'section',
      { class: 'panel', id: 'decisions' },
      h('h2', null, 'Decisions'),
      h(
        'p',
        { class: 'sub' },
        'Every decision the monitor and its retrains recorded ("no action" included). Click one for its provenance.',
      ),
      timelineEl,
      decisionList(modelId, d.decisions),
    ),
    lossEvaluationsPanel(modelId, d.lossEvaluations),
    comparisonsShown(d).length || d.shadowEvaluations.length || !d.lossEvaluations?.length
      ? h(
          'section',
          { class: 'panel', id: 'comparisons' },
          h('h2', null, 'Shadow / canary comparisons'),
          h(
            'p',
            { class: 'sub' },
            'Challenger vs champion on the same events: the improvement the promotion test used (with its confidence interval and the bar it had to clear), and accuracy of each side from shadow_results (95% Wilson intervals).',
          ),
          comparisons(modelId, d),
        )
      : null,
  );
  main.replaceChildren(page);

  // Charts after the page is in the document (they size to their containers).
  const xs = d.windows.map((w) => w.end);
  const qSeries = versions.map((v) => ({
    label: `${v} accuracy`,
    color: versionColor(v),
    values: d.windows.map((w) =>
      w.version === v && w.quality?.value !== null && w.quality ? w.quality.value * 100 : null,
    ),
    points: true,
    pointSize: 5,
  }));
  qSeries.push(...estimateSeries(d.windows));
  if (slo !== null)
    qSeries.push({
      label: `SLO ${pct(slo, 0)}`,
      color: '#c53030',
      dash: [3, 3],
      width: 1.5,
      spanGaps: true,
      values: xs.map(() => slo * 100),
    });
  if (xs.length)
    app.charts.quality = timeChart(qualityEl, {
      xs,
      series: qSeries,
      yLabel: 'accuracy (%)',
      yFormat: 'quality',
      stepMs: d.windowMs ?? 3_600_000,
    });
  else qualityEl.replaceChildren(noData('No evaluated windows yet.'));

  const byVersion = d.decay.byVersion;
  const decayVersions = versions.map((v) => {
    const trainedAt = d.versions.find((x) => x.version === v)?.trainedAt ?? null;
    const entry = byVersion[v];
    return {
      version: v,
      latest: latest?.version === v,
      model: entry?.fit?.model ?? 'none',
      metric: d.windows.find((w) => w.version === v && w.quality)?.quality?.metric,
      curve: entry?.curve ?? [],
      halfLife: entry?.halfLife ?? null,
      points:
        trainedAt === null
          ? []
          : d.windows
              .filter((w) => w.version === v && w.quality && w.quality.value !== null)
              .map((w) => ({ age: Math.max(0, (w.end - trainedAt) / 3_600_000), quality: w.quality.value })),
    };
  });
  if (decayVersions.some((v) => v.points.length))
    app.charts.decay = decayChart(decayEl, { versions: decayVersions, slo });
  else decayEl.replaceChildren(noData('No quality points yet.'));

  driftHeatmap(heatEl, d.windows.slice(-72));

  const dqWindows = d.windows.filter((w) => w.dataQuality);
  const dqFeatures = [...new Set(dqWindows.flatMap((w) => w.dataQuality.features.map((f) => f.name)))];
  if (dqWindows.length) {
    app.charts.dataQuality = timeChart(dqEl, {
      xs: dqWindows.map((w) => w.end),
      yLabel: 'rate (%)',
      yFormat: 'rate',
      stepMs: d.windowMs ?? 3_600_000,
      series: [
        ...dqFeatures.map((name, i) => ({
          label: `${name} missing`,
          color: ['#4263eb', '#0ca678', '#f59f00', '#ae3ec9', '#1098ad', '#e8590c', '#5c940d'][i % 7],
          width: 1.5,
          values: dqWindows.map((w) => (w.dataQuality.features.find((f) => f.name === name)?.missingRate ?? 0) * 100),
        })),
        {
          label: 'dead letters',
          color: '#c92a2a',
          width: 2,
          dash: [5, 3],
          values: dqWindows.map((w) => (w.dataQuality.deadLetterRate ?? 0) * 100),
        },
      ],
    });
  }
  if (!dqWindows.length) dqEl.replaceChildren(noData('No data-quality checks yet.'));
  if (d.ingest.length) {
    const per = ` per ${bucketText}`;
    app.charts.ingest = timeChart(ingestEl, {
      xs: d.ingest.map((r) => r.start),
      yFormat: 'count',
      yLabel: `events${per}`,
      y2Label: `dead letters${per}`,
      stepMs: d.ingestBucketMs,
      series: [
        { label: 'scoring events', color: '#3b5bdb', values: d.ingest.map((r) => r.events), stepped: true, unit: per },
        { label: 'labelled', color: '#2f9e44', values: d.ingest.map((r) => r.labelled), stepped: true, unit: per },
        {
          label: 'dead letters',
          color: '#c92a2a',
          scale: 'y2',
          values: d.ingest.map((r) => r.deadLetters),
          stepped: true,
          unit: per,
        },
      ],
    });
  } else ingestEl.replaceChildren(noData('No data yet: no scoring events, labels or dead letters in this range.'));

  decisionTimeline(timelineEl, d.decisions, (id) => openDecision(modelId, id));
  Object.assign(app.charts, drawLossEvaluations(page, d.lossEvaluations));
}

/** The binary comparisons: every promotion verdict but those the loss-evaluation panel shows. */
function comparisonsShown(d) {
  const shownThere = lossDecisionIds(d.lossEvaluations ?? []);
  return d.comparisons.filter((c) => !shownThere.has(c.decisionId));
}

// What the events are actually scored by (the scorers' reports and the events themselves), next to
// what the registry asks for; flagged when they disagree.
function servingCard(s, production) {
  const registry = production
    ? `registry: ${production.version} production since ${instant(production.promotedAt ?? production.trainedAt)}`
    : 'registry: no production version';
  if (!s) return card('Serving', production ? production.version : 'none', registry);
  const live = s.scorers.filter((x) => x.live);
  const routed = [
    ...new Set(
      live.map(
        (x) =>
          (x.serving?.routes ?? [])
            .filter((r) => r.share > 0)
            .map((r) => r.version)
            .join(' + ') || 'nothing',
      ),
    ),
  ];
  const scorers = live.length
    ? `${live.length} scorer${live.length === 1 ? '' : 's'}: ${routed.join(' | ')}`
    : 'no scorer reports';
  const disagrees = s.agreement === 'disagrees';
  const el = h(
    'div',
    { class: 'card', id: 'card-serving', 'data-agreement': s.agreement, 'data-scored-by': s.scoredBy ?? '' },
    h('div', { class: 'label' }, 'Serving'),
    h('div', { class: 'value' }, s.scoredBy ?? (production ? production.version : 'none')),
    h(
      'div',
      { class: 'detail' },
      s.scoredBy ? `events scored by ${s.scoredBy} · ` : 'no events in the last 10 minutes · ',
      `${scorers} · ${registry}`,
    ),
  );
  if (disagrees || s.agreement === 'pending')
    el.append(
      h(
        'div',
        { class: 'detail', style: { color: disagrees ? 'var(--bad)' : 'var(--warn)' } },
        disagrees
          ? `Disagrees with the registry: ${s.disagreements.map((x) => `${x.source}: ${x.reason}`).join('; ')}`
          : 'A routing change is reaching serving.',
      ),
    );
  return el;
}

const decisionHref = (model, id) => `#/model/${encodeURIComponent(model)}/decision/${encodeURIComponent(id)}`;

/** The first clause of a reason (up to "; "): a card shows it, the decision's provenance the whole. */
const firstClause = (text) => (text.includes('; ') ? text.slice(0, text.indexOf('; ')) : text);

/** An empty chart says so, instead of drawing axes over a made-up range. */
const noData = (text) => h('p', { class: 'muted no-data' }, text);

function card(label, value, detail, attrs = {}) {
  return h(
    'div',
    { class: 'card', ...attrs },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    h('div', { class: 'detail' }, detail),
  );
}

function dataQualityAlerts(windows) {
  const recent = windows.slice(-24).filter((w) => w.dataQuality && w.dataQuality.alerts.length);
  if (!recent.length) return h('p', { class: 'muted' }, 'No data-quality alerts in the last 24 windows.');
  return h(
    'ul',
    { class: 'alerts' },
    recent.slice(-5).map((w) => h('li', null, `${instant(w.end)}: ${w.dataQuality.alerts.join('; ')}`)),
  );
}

function decisionList(modelId, decisions) {
  const toggle = h('input', { type: 'checkbox', id: 'show-no-action', checked: showNoAction });
  toggle.addEventListener('change', () => {
    showNoAction = toggle.checked;
    signature = '';
    document.dispatchEvent(new Event('halflife:refresh'));
  });
  const shown = decisions.filter((d, i) => showNoAction || d.kind !== 'no-action' || i === 0);
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'filters' },
      h('label', null, toggle, ' show "no-action" decisions'),
      h('span', null, `${decisions.length} decisions, newest first`),
    ),
    h(
      'div',
      { class: 'list' },
      h(
        'table',
        { id: 'decision-list' },
        h(
          'thead',
          null,
          h('tr', null, ...['When', 'Decision', 'Version', 'Actor', 'Reason'].map((t) => h('th', null, t))),
        ),
        h(
          'tbody',
          null,
          shown.map((d) =>
            h(
              'tr',
              {
                class: 'clickable',
                'data-decision': d.decisionId,
                'data-kind': d.kind,
                onclick: () => openDecision(modelId, d.decisionId),
              },
              h('td', { class: 'num when' }, instant(d.at)),
              h('td', null, kindBadge(d.kind)),
              h('td', null, d.version),
              h('td', null, d.actor),
              h('td', { class: 'reason' }, d.reasonText ?? d.reason),
            ),
          ),
        ),
      ),
    ),
  );
}

function comparisons(modelId, d) {
  const shown = comparisonsShown(d);
  if (!shown.length && !d.shadowEvaluations.length) return h('p', { class: 'muted' }, 'No shadow evaluations yet.');
  return h(
    'div',
    { class: 'grid2' },
    shown.map((c) => {
      const imp = c.verdict?.statistics?.improvement;
      const stats = c.verdict?.statistics;
      const isAccuracy = imp?.metric === 'accuracy';
      const scale = isAccuracy ? 100 : 1;
      const unit = isAccuracy ? ' pp' : '';
      const rows = [];
      if (imp)
        rows.push({
          label: `improvement (${imp.metric})`,
          value: imp.improvement * scale,
          lower: imp.lower * scale,
          upper: imp.upper * scale,
          color: versionColor(c.candidate),
        });
      if (c.shadow && isAccuracy)
        rows.push({
          label: 'accuracy diff (shadow_results)',
          value: c.shadow.accuracy.difference.value * 100,
          lower: (c.shadow.accuracy.difference.lower ?? NaN) * 100,
          upper: (c.shadow.accuracy.difference.upper ?? NaN) * 100,
          color: '#495057',
        });
      const refs = [{ at: 0, label: 'no change', color: '#868e96' }];
      if (stats && Number.isFinite(stats.bar))
        refs.push({
          at: stats.bar * scale,
          label:
            stats.test === 'non-inferiority'
              ? `margin ${barText(stats.bar * scale, isAccuracy)}${unit}`
              : `bar ${barText(stats.bar * scale, isAccuracy)}${unit}`,
          color: '#c53030',
          dash: true,
        });
      const accRows = c.shadow
        ? [
            {
              label: `${c.champion ?? 'champion'} (champion)`,
              value: c.shadow.accuracy.champion.value * 100,
              lower: c.shadow.accuracy.champion.lower * 100,
              upper: c.shadow.accuracy.champion.upper * 100,
              color: versionColor(c.champion ?? 'v1'),
            },
            {
              label: `${c.candidate} (challenger)`,
              value: c.shadow.accuracy.candidate.value * 100,
              lower: c.shadow.accuracy.candidate.lower * 100,
              upper: c.shadow.accuracy.candidate.upper * 100,
              color: versionColor(c.candidate),
            },
          ]
        : [];
      return h(
        'div',
        { class: 'comparison', 'data-decision': c.decisionId },
        h(
          'h2',
          null,
          `${c.candidate} vs ${c.champion ?? '–'} `,
          kindBadge(c.kind),
          ' ',
          h('span', { class: 'muted', style: { fontWeight: 400, fontSize: '13px' } }, instant(c.at)),
        ),
        h(
          'p',
          { class: 'sub' },
          c.verdict
            ? `verdict: ${c.verdict.decision} · ${stats?.test ?? ''} test, ${Math.round((stats?.level ?? 0.95) * 100)}% CI (${imp?.method ?? '–'}), n = ${stats?.n ?? c.shadow?.n ?? '–'} paired events${stats?.mcnemar ? ` · McNemar p = ${fixed(stats.mcnemar.pvalue, 3)}` : ''}`
            : c.reason,
        ),
        rows.length
          ? intervalPlot(rows, {
              refs,
              unit,
              axisLabel: `challenger − champion (${isAccuracy ? 'accuracy, percentage points' : (imp?.metric ?? '')})`,
            })
          : null,
        accRows.length ? intervalPlot(accRows, { unit: '%', axisLabel: 'accuracy on the shadow events (%)' }) : null,
        h(
          'p',
          null,
          h(
            'a',
            { href: `#/model/${encodeURIComponent(modelId)}/decision/${encodeURIComponent(c.decisionId)}` },
            'provenance of this decision',
          ),
        ),
      );
    }),
  );
}

/**
 * The last window's label-free estimate (CBPE) with its 95% interval and the threshold accuracy
 * was estimated at, beside realised; null when the window has none.
 */
/** A multiclass or regression metric's own figure beside its quality, e.g. "; log_loss 0.631 (quality = exp(−log loss))". */
function figureText(metric, figure) {
  if (!figure || figure.value === null || figure.value === undefined) return '';
  return `; ${metric} ${Number(figure.value).toPrecision(4)} (${figure.transform})`;
}

function estimateText(w) {
  const e = w?.estimated;
  if (!e || e.value === null) return null;
  const band = e.interval ? ` (95% CI ${pct(e.interval.lower)}–${pct(e.interval.upper)})` : '';
  const at = e.threshold !== null && e.threshold !== undefined ? ` at threshold ${e.threshold}` : '';
  const realised =
    w.realised?.value === null || w.realised?.value === undefined
      ? ', no labels yet'
      : `; realised ${pct(w.realised.value)} (${w.realised.n} labels)`;
  return h(
    'span',
    { id: 'card-estimate', class: 'estimate' },
    h('br'),
    `estimated ${pct(e.value)}${band}, CBPE${at}${e.trustworthy ? '' : ', not trusted'}${realised}`,
  );
}

/** Realised and estimated quality per window, the estimate with its 95% band (percent); none without estimates. */
function estimateSeries(windows) {
  if (!windows.some((w) => w.estimated?.value !== null && w.estimated?.value !== undefined)) return [];
  const at = (f) =>
    windows.map((w) => {
      const v = f(w);
      return v === null || v === undefined ? null : v * 100;
    });
  const grey = '#718096';
  return [
    { label: 'realised', color: '#2d3748', width: 1.5, values: at((w) => w.realised?.value), spanGaps: true },
    {
      label: 'estimated (CBPE)',
      color: '#d69e2e',
      width: 2,
      dash: [6, 3],
      values: at((w) => w.estimated?.value),
      spanGaps: true,
    },
    {
      label: 'estimate 95% low',
      color: grey,
      width: 1,
      dash: [2, 3],
      values: at((w) => w.estimated?.interval?.lower),
      spanGaps: true,
    },
    {
      label: 'estimate 95% high',
      color: grey,
      width: 1,
      dash: [2, 3],
      values: at((w) => w.estimated?.interval?.upper),
      spanGaps: true,
    },
  ];
}

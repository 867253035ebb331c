// Segments on the model page: a segment × feature heatmap of the newest judged window (colour =
// Jensen–Shannon distance against the segment's own reference, ● = drifted after
// Benjamini–Hochberg across segments × features) and each segment's realised quality with its
// 95% interval against the segment SLO; a multiclass or regression model's quality beside the
// metric it was derived from (log loss, RMSE, …).
import { jsColor } from './charts.js';
import { h, instant } from './util.js';

const three = (v) => (v === null || v === undefined ? '–' : v.toFixed(3));

/** The segments panel, or null when the model's policy names no segment keys. */
export function segmentsPanel(segments) {
  if (!segments) return null;
  const { report, at } = segments;
  const judged = report.segments.filter((s) => s.judged);
  const names = [];
  for (const s of judged) for (const c of s.drift.columns) if (!names.includes(c.name)) names.push(c.name);
  const grid = h('div', {
    class: 'heatmap',
    id: 'segment-heatmap',
    style: { gridTemplateColumns: `190px repeat(${Math.max(1, names.length)}, minmax(36px, 1fr))` },
  });
  grid.append(h('div', null));
  for (const name of names) grid.append(h('div', { class: 'collabel', title: name }, name));
  for (const s of report.segments) {
    grid.append(h('div', { class: 'rowlabel', title: s.segment }, s.segment));
    for (const name of names) {
      const c = s.drift?.columns.find((x) => x.name === name) ?? null;
      const v = c?.jensen_shannon ?? null;
      grid.append(
        h(
          'div',
          {
            class: 'cell',
            'data-segment': s.segment,
            'data-feature': name,
            'data-drifted': c?.drifted ? 'true' : 'false',
            style: {
              background: s.judged ? jsColor(v) : '#e9ecef',
              color: v !== null && v > 0.12 ? '#fff' : '#1d2430',
            },
            title: s.judged
              ? `${s.segment} · ${name}\nJensen–Shannon ${three(v)} · PSI ${three(c?.psi)}\nBH-adjusted p ${c?.pvalue_adjusted === null || c?.pvalue_adjusted === undefined ? '–' : c.pvalue_adjusted.toExponential(1)} · ${c?.drifted ? 'DRIFTED' : 'not drifted'}`
              : `${s.segment}: not judged (${s.note})`,
          },
          c?.drifted ? '●' : '',
        ),
      );
    }
  }
  const rows = report.segments.map((s) => {
    const q = s.quality;
    // The metric in its own units: a multiclass or regression model's figure, else the quality itself.
    const metric = q ? `${q.metric} ${three(q.figure ? q.figure.value : q.value)}` : '–';
    return h(
      'tr',
      { 'data-segment': s.segment, 'data-breached': s.sloBreached ? 'true' : 'false' },
      h('td', null, s.segment),
      h('td', { class: 'num' }, String(s.events)),
      h('td', { class: 'num segment-metric', title: q?.figure ? q.figure.transform : '' }, metric),
      h('td', { class: 'num' }, q ? three(q.value) : '–'),
      h('td', { class: 'num' }, q?.interval ? `${three(q.interval.lower)}–${three(q.interval.upper)}` : '–'),
      h('td', { class: 'num' }, q ? String(q.n) : '0'),
      h(
        'td',
        null,
        s.sloBreached
          ? h('span', { class: 'badge h-degraded' }, 'below SLO')
          : s.drift && s.drift.drifted.length > 0
            ? h('span', { class: 'badge h-drifting' }, `drift: ${s.drift.drifted.join(', ')}`)
            : s.judged
              ? h('span', { class: 'badge h-healthy' }, 'ok')
              : h('span', { class: 'muted' }, s.note ?? 'not judged'),
      ),
    );
  });
  return h(
    'section',
    { class: 'panel', id: 'segments', 'data-drivers': report.drivers.join(',') },
    h('h2', null, 'Segments'),
    h(
      'p',
      { class: 'sub' },
      `Window decided ${instant(at)}: each segment against its own reference, Benjamini–Hochberg over ${report.multipleTesting.tests} segment × feature tests. ${report.drivers.length > 0 ? `Driving the decision: ${report.drivers.join(', ')}.` : 'No segment drove the decision.'}`,
    ),
    grid,
    h(
      'div',
      { class: 'scale' },
      'colour: Jensen–Shannon distance (base 2) · ● drifted = effect size over its threshold and BH-adjusted p < 0.05 · grey: too few events to judge',
    ),
    h(
      'table',
      { class: 'segment-quality' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Segment', 'Events', 'Metric', 'Quality', '95% interval', 'Labelled', 'Verdict'].map((t) =>
            h('th', null, t),
          ),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
}

/* global ResizeObserver */
// Charts: time series and the decay curve with uPlot (vendored), the drift heatmap, decision
// timeline and confidence-interval plots as plain DOM/SVG. Every axis says what and in which unit.
import uPlot from '/ui/vendor/uPlot.esm.js';
import { h, svg, versionColor, utcShort } from './util.js';

const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
const pctAxis = (label) => ({
  label,
  values: (_u, splits) => splits.map((v) => `${v.toFixed(Math.abs(v) < 10 && v % 1 !== 0 ? 1 : 0)}%`),
  size: 56,
});

function sized(el, make) {
  const width = () => Math.max(320, el.clientWidth - 4);
  const chart = make(width());
  const ro = new ResizeObserver(() => chart.setSize({ width: width(), height: chart.height }));
  ro.observe(el);
  chart.__ro = ro;
  return chart;
}

export function destroy(chart) {
  if (!chart) return;
  chart.__ro?.disconnect();
  chart.destroy();
}

/**
 * Time-series chart. `series`: [{ label, values, color, dash?, points?: 'only' | boolean, scale? }].
 * x in ms (converted to seconds for uPlot), y as given.
 */
export function timeChart(el, { xs, series, yLabel, yFormat = 'pct', y2Label, height = 300 }) {
  const axes = [{ label: 'time (UTC)', size: 44 }, yFormat === 'pct' ? pctAxis(yLabel) : { label: yLabel, size: 60 }];
  // Counts start at zero, so a flat rate does not look like a swing.
  const fromZero = { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] };
  const scales = { x: { time: true }, ...(yFormat === 'pct' ? {} : { y: fromZero }) };
  if (y2Label) {
    axes.push({ scale: 'y2', side: 1, label: y2Label, grid: { show: false }, size: 56 });
    scales.y2 = fromZero;
  }
  const uSeries = [
    { label: 'time (UTC)', value: (_u, v) => (v === null ? '–' : `${utcShort(v * 1000)} UTC`) },
    ...series.map((s) => ({
      label: s.label,
      stroke: s.color,
      width: s.width ?? 2,
      dash: s.dash,
      scale: s.scale ?? 'y',
      spanGaps: s.spanGaps ?? false,
      fill: s.fill,
      paths: s.points === 'only' ? () => null : s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
      points: s.points ? { show: true, size: s.pointSize ?? 6, fill: s.color, stroke: s.color } : { show: false },
      value: (_u, v) =>
        v === null || v === undefined
          ? '–'
          : yFormat === 'pct' && (s.scale ?? 'y') === 'y'
            ? `${v.toFixed(1)}%`
            : `${Math.round(v * 100) / 100}${s.unit ?? ''}`,
    })),
  ];
  return sized(
    el,
    (width) =>
      new uPlot(
        { width, height, tzDate: utcDate, scales, axes, series: uSeries, legend: { live: false } },
        [xs.map((x) => x / 1000), ...series.map((s) => s.values)],
        el,
      ),
  );
}

/**
 * Quality against version age with the fitted exponential decay curves:
 * q(a) = floor + (q0 − floor)·2^(−a/h). `versions`: [{ version, points: [{age, quality}], fit, latest }] (quality in 0..1).
 */
export function decayChart(el, { versions, slo, height = 320 }) {
  const latest = versions.find((v) => v.latest && v.fit);
  let maxAge = 0;
  for (const v of versions) for (const p of v.points) maxAge = Math.max(maxAge, p.age);
  if (latest?.fit?.halfLifeHours) maxAge = Math.max(maxAge, Math.min(latest.fit.halfLifeHours * 2.2, maxAge * 2 + 1));
  maxAge = Math.ceil(Math.max(1, maxAge));
  const grid = Array.from({ length: 81 }, (_, i) => (maxAge * i) / 80);
  const key = (a) => Math.round(a * 1000) / 1000;
  const xsSet = new Set(grid.map(key));
  for (const v of versions) for (const p of v.points) xsSet.add(key(p.age));
  const xs = [...xsSet].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const empty = () => new Array(xs.length).fill(null);

  const series = [{ label: 'version age (h)', value: (_u, v) => (v === null ? '–' : `${v.toFixed(1)} h`) }];
  const data = [xs];
  const curve = (fit, a) => {
    if (fit.model === 'exponential') return fit.floor + (fit.q0 - fit.floor) * 2 ** (-a / fit.halfLifeHours);
    if (fit.model === 'linear') return Math.max(fit.floor ?? -Infinity, fit.q0 + fit.slopePerHour * a);
    return fit.q0;
  };
  for (const v of versions) {
    const color = versionColor(v.version);
    const observed = empty();
    for (const p of v.points) observed[index.get(key(p.age))] = p.quality * 100;
    series.push({
      label: `${v.version} observed`,
      stroke: color,
      paths: () => null,
      points: { show: true, size: 6, fill: color, stroke: color },
      value: (_u, y) => (y === null ? '–' : `${y.toFixed(1)}%`),
    });
    data.push(observed);
    if (v.fit && v.fit.q0 !== null && v.fit.model !== 'none') {
      const fitted = empty();
      const until = v.latest ? maxAge : Math.max(...v.points.map((p) => p.age), 1);
      for (const a of grid) if (a <= until + 1e-9) fitted[index.get(key(a))] = curve(v.fit, a) * 100;
      series.push({
        label: `${v.version} fitted decay (${v.fit.model}${v.fit.halfLifeHours ? `, h = ${v.fit.halfLifeHours.toFixed(1)} h` : ''})`,
        stroke: color,
        width: v.latest ? 2.5 : 1.5,
        dash: v.latest ? undefined : [6, 4],
        spanGaps: true,
        points: { show: false },
        value: (_u, y) => (y === null ? '–' : `${y.toFixed(1)}%`),
      });
      data.push(fitted);
    }
  }
  if (slo !== null && slo !== undefined) {
    series.push({
      label: `SLO ${(slo * 100).toFixed(0)}%`,
      stroke: '#c53030',
      width: 1.5,
      dash: [3, 3],
      spanGaps: true,
      points: { show: false },
      value: () => `${(slo * 100).toFixed(0)}%`,
    });
    data.push(xs.map(() => slo * 100));
  }

  const marker = (u) => {
    const fit = latest?.fit;
    if (!fit || fit.model !== 'exponential' || !fit.halfLifeHours) return;
    const x = u.valToPos(fit.halfLifeHours, 'x', true);
    const qh = (fit.floor + (fit.q0 - fit.floor) / 2) * 100;
    const y = u.valToPos(qh, 'y', true);
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = versionColor(latest.version);
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1.5 * devicePixelRatioSafe();
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top + u.bbox.height);
    ctx.lineTo(x, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#1d2430';
    ctx.font = `${12 * devicePixelRatioSafe()}px system-ui, sans-serif`;
    ctx.fillText(
      `half-life ${fit.halfLifeHours.toFixed(1)} h`,
      x + 6 * devicePixelRatioSafe(),
      y - 6 * devicePixelRatioSafe(),
    );
    ctx.restore();
  };
  return sized(
    el,
    (width) =>
      new uPlot(
        {
          width,
          height,
          scales: { x: { time: false } },
          axes: [{ label: 'version age (hours since training)', size: 44 }, pctAxis('accuracy (%)')],
          series,
          hooks: { draw: [marker] },
          legend: { live: false },
        },
        data,
        el,
      ),
  );
}

function devicePixelRatioSafe() {
  return globalThis.devicePixelRatio || 1;
}

/** Colour of a Jensen–Shannon distance: grey (none) → amber at the 0.1 threshold → red at 0.3+. */
export function jsColor(v) {
  if (v === null || v === undefined) return '#e9ecef';
  const stops = [
    [0, [233, 240, 247]],
    [0.05, [255, 224, 140]],
    [0.1, [245, 159, 0]],
    [0.2, [232, 89, 12]],
    [0.3, [176, 30, 30]],
  ];
  const x = Math.min(0.3, Math.max(0, v));
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (x <= x1) {
      const t = (x - x0) / (x1 - x0);
      return `rgb(${c0.map((c, k) => Math.round(c + (c1[k] - c) * t)).join(',')})`;
    }
  }
  return 'rgb(176,30,30)';
}

/** Drift heatmap: features (rows) × windows (columns), colour = Jensen–Shannon distance, ● = drifted. */
export function driftHeatmap(el, windows) {
  const cols = windows.filter((w) => w.drift);
  const names = [];
  for (const w of cols) for (const f of w.drift.features) if (!names.includes(f.name)) names.push(f.name);
  names.sort((a, b) => (a === 'prediction') - (b === 'prediction') || a.localeCompare(b));
  const grid = h('div', {
    class: 'heatmap',
    id: 'drift-heatmap',
    style: { gridTemplateColumns: `150px repeat(${Math.max(1, cols.length)}, minmax(4px, 1fr))` },
  });
  for (const name of names) {
    grid.append(h('div', { class: 'rowlabel', title: name }, name));
    for (const w of cols) {
      const f = w.drift.features.find((x) => x.name === name);
      const v = f?.jensenShannon ?? null;
      grid.append(
        h(
          'div',
          {
            class: 'cell',
            'data-feature': name,
            'data-drifted': f?.drifted ? 'true' : 'false',
            style: { background: jsColor(v), color: v !== null && v > 0.12 ? '#fff' : '#1d2430' },
            title: `${name} · window ending ${utcShort(w.end)} UTC\nJensen–Shannon ${v === null ? '–' : v.toFixed(3)}${f?.psi !== null && f?.psi !== undefined ? ` · PSI ${f.psi.toFixed(3)}` : ''}${f?.wassersteinNormalized !== null && f?.wassersteinNormalized !== undefined ? ` · Wasserstein/σ ${f.wassersteinNormalized.toFixed(3)}` : ''}\nBH-adjusted p ${f?.pvalueAdjusted === null || f?.pvalueAdjusted === undefined ? '–' : f.pvalueAdjusted.toExponential(1)} · ${f?.drifted ? 'DRIFTED' : 'not drifted'}`,
          },
          f?.drifted ? '●' : '',
        ),
      );
    }
  }
  grid.append(h('div', null));
  const every = Math.max(1, Math.ceil(cols.length / 8));
  cols.forEach((w, i) => grid.append(h('div', { class: 'collabel' }, i % every === 0 ? utcShort(w.end).slice(6) : '')));
  const gradient = `linear-gradient(to right, ${[0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3].map((v) => jsColor(v)).join(', ')})`;
  el.replaceChildren(
    grid,
    h(
      'div',
      { class: 'scale' },
      'Jensen–Shannon distance (base 2):',
      h('span', null, '0'),
      h('span', { class: 'bar', style: { background: gradient } }),
      h('span', null, '≥ 0.3'),
      h(
        'span',
        null,
        '· threshold 0.1 · ● drifted = effect size over its threshold and BH-adjusted p < 0.05 · columns: window end (UTC)',
      ),
    ),
  );
}

const KIND_COLOR = {
  'no-action': '#adb5bd',
  retrain: '#3b5bdb',
  'force-retrain': '#3b5bdb',
  promote: '#2f9e44',
  reject: '#c92a2a',
  rollback: '#c92a2a',
  'training-failed': '#c92a2a',
  blocked: '#f08c00',
  'approval-requested': '#f08c00',
};

/** Decision timeline strip: one marker per decision; click opens its provenance. */
export function decisionTimeline(el, decisions, onOpen) {
  const width = Math.max(400, el.clientWidth - 4);
  const height = 92;
  if (decisions.length === 0) return el.replaceChildren(h('p', { class: 'muted' }, 'No decisions yet.'));
  const t0 = Math.min(...decisions.map((d) => d.at));
  const t1 = Math.max(...decisions.map((d) => d.at), t0 + 3_600_000);
  const x = (t) => 50 + ((t - t0) / (t1 - t0)) * (width - 100);
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'decision timeline',
  });
  root.append(svg('line', { x1: 40, x2: width - 40, y1: 50, y2: 50, stroke: '#ced4da' }));
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    root.append(
      svg('text', { x: x(t), y: 86, 'text-anchor': 'middle', 'font-size': 11, fill: '#5f6b7a' }, `${utcShort(t)}`),
    );
  }
  const sorted = [...decisions]
    .sort((a, b) => (a.kind === 'no-action') - (b.kind === 'no-action') || a.at - b.at)
    .reverse();
  // Labels of neighbouring major decisions alternate between two rows so they do not overlap.
  const majors = decisions.filter((d) => d.kind !== 'no-action').sort((a, b) => a.at - b.at);
  const labelRow = new Map(majors.map((d, i) => [d.decisionId, i % 2]));
  for (const d of sorted) {
    const major = d.kind !== 'no-action';
    const g = svg('g', {
      class: 'marker',
      'data-decision': d.decisionId,
      'data-kind': d.kind,
      onclick: () => onOpen(d.decisionId),
    });
    g.append(svg('title', null, `${d.kind} · ${utcShort(d.at)} UTC · ${d.version}\n${d.reason}`));
    if (major) {
      g.append(
        svg('circle', {
          cx: x(d.at),
          cy: 50,
          r: 8,
          fill: KIND_COLOR[d.kind] ?? '#495057',
          stroke: '#fff',
          'stroke-width': 2,
        }),
      );
      g.append(
        svg(
          'text',
          {
            x: x(d.at),
            y: labelRow.get(d.decisionId) ? 14 : 32,
            'text-anchor': 'middle',
            'font-size': 11,
            'font-weight': 600,
            fill: KIND_COLOR[d.kind] ?? '#495057',
          },
          d.kind,
        ),
      );
    } else {
      g.append(svg('rect', { x: x(d.at) - 1.5, y: 42, width: 3, height: 16, fill: KIND_COLOR['no-action'] }));
    }
    root.append(g);
  }
  el.replaceChildren(root);
}

/**
 * Interval plot: rows of estimate with a confidence interval, with reference lines.
 * rows: [{ label, value, lower, upper, color }]; refs: [{ at, label, color, dash }]; values in display units.
 */
export function intervalPlot(rows, { refs = [], unit, axisLabel, width = 560 }) {
  const rowH = 34;
  const left = 200;
  const right = 24;
  const height = rows.length * rowH + 62;
  const all = [
    ...rows.flatMap((r) => [r.lower ?? r.value, r.upper ?? r.value, r.value]),
    ...refs.map((r) => r.at),
  ].filter((v) => Number.isFinite(v));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const pad = (hi - lo || 1) * 0.12;
  lo -= pad;
  hi += pad;
  const x = (v) => left + ((v - lo) / (hi - lo)) * (width - left - right);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': axisLabel });
  const plotBottom = rows.length * rowH + 22;
  for (const r of refs) {
    root.append(
      svg('line', {
        x1: x(r.at),
        x2: x(r.at),
        y1: 4,
        y2: plotBottom,
        stroke: r.color ?? '#868e96',
        'stroke-dasharray': r.dash ? '4 3' : null,
      }),
    );
    root.append(
      svg(
        'text',
        {
          x: x(r.at) + (r.at < 0 ? -4 : 4),
          y: 12,
          'text-anchor': r.at < 0 ? 'end' : 'start',
          'font-size': 10,
          fill: r.color ?? '#5f6b7a',
        },
        r.label,
      ),
    );
  }
  rows.forEach((r, i) => {
    const y = i * rowH + 38;
    root.append(
      svg('text', { x: left - 8, y: y + 4, 'text-anchor': 'end', 'font-size': 12, fill: '#1d2430' }, r.label),
    );
    if (Number.isFinite(r.lower) && Number.isFinite(r.upper)) {
      root.append(svg('line', { x1: x(r.lower), x2: x(r.upper), y1: y, y2: y, stroke: r.color, 'stroke-width': 3 }));
      for (const e of [r.lower, r.upper])
        root.append(svg('line', { x1: x(e), x2: x(e), y1: y - 6, y2: y + 6, stroke: r.color, 'stroke-width': 2 }));
    }
    root.append(svg('circle', { cx: x(r.value), cy: y, r: 5, fill: r.color }));
    root.append(
      svg(
        'text',
        {
          x: Math.min(width - right - 70, Math.max(left + 70, x(r.value))),
          y: y - 8,
          'font-size': 11,
          fill: '#1d2430',
          'text-anchor': 'middle',
        },
        `${r.value.toFixed(2)}${unit}${Number.isFinite(r.lower) ? ` [${r.lower.toFixed(2)}, ${r.upper.toFixed(2)}]` : ''}`,
      ),
    );
  });
  root.append(svg('line', { x1: left, x2: width - right, y1: plotBottom, y2: plotBottom, stroke: '#adb5bd' }));
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    root.append(
      svg(
        'text',
        { x: x(v), y: plotBottom + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#5f6b7a' },
        `${v.toFixed(1)}${unit}`,
      ),
    );
  }
  root.append(
    svg(
      'text',
      { x: (left + width - right) / 2, y: plotBottom + 32, 'text-anchor': 'middle', 'font-size': 11, fill: '#5f6b7a' },
      axisLabel,
    ),
  );
  return h('div', { class: 'forest' }, root);
}

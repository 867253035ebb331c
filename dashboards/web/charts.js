/* global ResizeObserver */
// Charts: time series and the decay curve with uPlot (vendored), the drift heatmap, decision
// timeline and confidence-interval plots as plain DOM/SVG. Every axis says what and in which unit.
import uPlot from '/ui/vendor/uPlot.esm.js';
import {
  h,
  svg,
  versionColor,
  instant,
  niceTickLabels,
  niceTicks,
  percentTickLabels,
  qualityLabel,
  timeTickLabels,
} from './util.js';

const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

/** A y range for a bounded metric in percent: around the data, never outside 0–100, at least `minSpan` wide. */
export function boundedPercentRange(min, max, minSpan = 4) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 100];
  const pad = Math.max((max - min) * 0.1, (minSpan - (max - min)) / 2, 0.5);
  let lo = Math.max(0, min - pad);
  let hi = Math.min(100, max + pad);
  if (hi - lo < minSpan) {
    if (lo === 0) hi = Math.min(100, lo + minSpan);
    else lo = Math.max(0, hi - minSpan);
  }
  return [lo, hi];
}

const pctAxis = (label) => ({
  label,
  values: (_u, splits) => percentTickLabels(splits),
  size: 64,
});

const timeAxis = () => ({
  label: 'time (UTC)',
  size: 56,
  space: 90,
  values: (_u, splits) => timeTickLabels(splits.map((s) => s * 1000)),
});

function sized(el, make) {
  const width = () => Math.max(320, el.clientWidth - 4);
  const chart = make(width());
  const ro = new ResizeObserver(() => chart.setSize({ width: width(), height: chart.height }));
  ro.observe(el);
  chart.__ro = ro;
  return chart;
}

/**
 * A uPlot chart on a numeric (not time) x axis, sized to `el`, without a live legend: the options
 * the decay and running-mean charts share. `xRange`/`yRange`: uPlot scale ranges; `hooks`: their
 * drawing over the plot.
 */
function numericXChart(el, { height, xRange, yRange, xLabel, yAxis, series, hooks, data }) {
  return sized(
    el,
    (width) =>
      new uPlot(
        {
          width,
          height,
          scales: { x: { time: false, range: xRange }, y: { range: yRange } },
          axes: [{ label: xLabel, size: 44 }, yAxis],
          series,
          hooks,
          legend: { live: false },
        },
        data,
        el,
      ),
  );
}

export function destroy(chart) {
  if (!chart) return;
  chart.__ro?.disconnect();
  chart.destroy();
}

/**
 * Time-series chart. `series`: [{ label, values, color, dash?, points?: 'only' | boolean, scale? }].
 * x in ms (converted to seconds for uPlot), y as given. `yFormat`: 'quality' (a bounded metric in
 * percent: 0–100, zoomed to the data), 'rate' (percent from 0) or 'count' (from 0). `stepMs`: the
 * spacing of the x values (a window or bucket), so one point still gets a sane time axis.
 */
export function timeChart(el, { xs, series, yLabel, yFormat = 'quality', y2Label, stepMs = 3_600_000, height = 300 }) {
  const percent = yFormat === 'quality' || yFormat === 'rate';
  const axes = [timeAxis(), percent ? pctAxis(yLabel) : { label: yLabel, size: 60 }];
  // Counts and rates start at zero, so a flat rate does not look like a swing.
  const fromZero = {
    range: (_u, _min, max) => [0, max > 0 ? (yFormat === 'rate' ? Math.min(100, max * 1.15) : max * 1.1) : 1],
  };
  const quality = { range: (_u, min, max) => boundedPercentRange(min, max) };
  // One x value (or all equal) would make uPlot invent a span (a day, or years): pad by a step instead.
  const pad = Math.max(1, stepMs / 1000);
  const first = Math.min(...xs) / 1000;
  const last = Math.max(...xs) / 1000;
  const x = { time: true, range: () => (first === last ? [first - pad, last + pad] : [first, last]) };
  const scales = { x, y: yFormat === 'quality' ? quality : fromZero };
  if (y2Label) {
    axes.push({ scale: 'y2', side: 1, label: y2Label, grid: { show: false }, size: 56 });
    scales.y2 = fromZero;
  }
  const uSeries = [
    { label: 'time (UTC)', value: (_u, v) => (v === null ? '–' : instant(v * 1000)) },
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
          : percent && (s.scale ?? 'y') === 'y'
            ? `${v.toFixed(1)}%`
            : `${Math.round(v * 100) / 100}${s.unit ?? ''}`,
    })),
  ];
  return sized(
    el,
    (width) =>
      new uPlot(
        { width, height, tzDate: utcDate, scales, axes, series: uSeries, legend: { live: false } },
        [xs.map((v) => v / 1000), ...series.map((s) => s.values)],
        el,
      ),
  );
}

/** The unit a version-age axis reads in: minutes for short lives, hours, days for long ones. */
function ageUnit(maxHours) {
  if (maxHours < 2) return { name: 'min', per: 1 / 60 };
  if (maxHours < 72) return { name: 'h', per: 1 };
  return { name: 'd', per: 24 };
}

/**
 * Quality against version age: each version's observed windows, and each version's latest decay
 * fit drawn over the ages it was observed at (never extrapolated), the version in service with the
 * fit's band. `versions`: [{ version, latest, points: [{age, quality}], curve: [{ageHours, quality,
 * lower, upper}], halfLife }] (quality in 0..1, ages in hours). The half-life is marked only when
 * the API says the fit has the evidence for one, and only inside the observed ages.
 */
export function decayChart(el, { versions, slo, height = 320 }) {
  const latest = versions.find((v) => v.latest);
  let maxAge = 0;
  for (const v of versions) {
    for (const p of v.points) maxAge = Math.max(maxAge, p.age);
    for (const c of v.curve) maxAge = Math.max(maxAge, c.ageHours);
  }
  const unit = ageUnit(maxAge);
  const toX = (hours) => Math.round((hours / unit.per) * 1e6) / 1e6;
  const xsSet = new Set();
  for (const v of versions) {
    for (const p of v.points) xsSet.add(toX(p.age));
    for (const c of v.curve) xsSet.add(toX(c.ageHours));
  }
  const xs = [...xsSet].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const empty = () => new Array(xs.length).fill(null);

  const series = [
    { label: `version age (${unit.name})`, value: (_u, v) => (v === null ? '–' : `${v.toFixed(1)} ${unit.name}`) },
  ];
  const data = [xs];
  const ys = [];
  for (const v of versions) {
    const color = versionColor(v.version);
    const observed = empty();
    for (const p of v.points) {
      observed[index.get(toX(p.age))] = p.quality * 100;
      ys.push(p.quality * 100);
    }
    series.push({
      label: `${v.version} observed`,
      stroke: color,
      paths: () => null,
      points: { show: true, size: 6, fill: color, stroke: color },
      value: (_u, y) => (y === null ? '–' : `${y.toFixed(1)}%`),
    });
    data.push(observed);
    if (v.curve.length > 0) {
      const fitted = empty();
      for (const c of v.curve) fitted[index.get(toX(c.ageHours))] = c.quality * 100;
      series.push({
        label: `${v.version} fitted decay (${v.model}${v.halfLife?.reportable ? `, half-life ${v.halfLife.text.split(' (')[0]}` : ''})`,
        stroke: color,
        width: v.latest ? 2.5 : 1.5,
        dash: v.latest ? undefined : [6, 4],
        spanGaps: true,
        points: { show: false },
        value: (_u, y) => (y === null ? '–' : `${y.toFixed(1)}%`),
      });
      data.push(fitted);
      if (v.latest)
        for (const c of v.curve) {
          ys.push(c.quality * 100);
          if (c.lower !== null) ys.push(c.lower * 100, c.upper * 100);
        }
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
    ys.push(slo * 100);
  }
  const [yMin, yMax] = boundedPercentRange(Math.min(...ys), Math.max(...ys));

  const band = latest && latest.curve.some((c) => c.lower !== null) ? latest : null;
  const drawBand = (u) => {
    if (!band) return;
    const pts = band.curve.filter((c) => c.lower !== null);
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    pts.forEach((c, i) => {
      const px = u.valToPos(toX(c.ageHours), 'x', true);
      const py = u.valToPos(Math.min(100, c.upper * 100), 'y', true);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    for (const c of [...pts].reverse())
      ctx.lineTo(u.valToPos(toX(c.ageHours), 'x', true), u.valToPos(Math.max(0, c.lower * 100), 'y', true));
    ctx.closePath();
    ctx.fillStyle = `${versionColor(band.version)}26`;
    ctx.fill();
    ctx.restore();
  };
  const marker = (u) => {
    const hl = latest?.halfLife;
    if (!hl?.reportable || hl.hours === null || toX(hl.hours) > xs[xs.length - 1] || toX(hl.hours) < xs[0]) return;
    const x = u.valToPos(toX(hl.hours), 'x', true);
    const ctx = u.ctx;
    const dpr = devicePixelRatioSafe();
    ctx.save();
    ctx.strokeStyle = versionColor(latest.version);
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top + u.bbox.height);
    ctx.lineTo(x, u.bbox.top);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#1d2430';
    ctx.font = `${12 * dpr}px system-ui, sans-serif`;
    ctx.fillText(`half-life ${hl.text.split(' (')[0]}`, x + 6 * dpr, u.bbox.top + 14 * dpr);
    ctx.restore();
  };
  const chart = numericXChart(el, {
    height,
    xRange: (_u, min, max) => (min === max ? [Math.max(0, min - 1), max + 1] : [min, max]),
    yRange: () => [yMin, yMax],
    xLabel: `version age (${unit.name} since training)`,
    yAxis: pctAxis(`${qualityLabel(latest?.metric)} (%)`),
    series,
    hooks: { drawClear: [drawBand], draw: [marker] },
    data,
  });
  chart.__ageUnit = unit.name;
  chart.__band = band ? band.curve : null;
  return chart;
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
  if (cols.length === 0)
    return el.replaceChildren(
      h(
        'p',
        { class: 'muted no-data' },
        'No drift evaluated yet: windows are compared once the version has a reference.',
      ),
    );
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
            title: `${name} · window ending ${instant(w.end)}\nJensen–Shannon ${v === null ? '–' : v.toFixed(3)}${f?.psi !== null && f?.psi !== undefined ? ` · PSI ${f.psi.toFixed(3)}` : ''}${f?.wassersteinNormalized !== null && f?.wassersteinNormalized !== undefined ? ` · Wasserstein/σ ${f.wassersteinNormalized.toFixed(3)}` : ''}\nBH-adjusted p ${f?.pvalueAdjusted === null || f?.pvalueAdjusted === undefined ? '–' : f.pvalueAdjusted.toExponential(1)} · ${f?.drifted ? 'DRIFTED' : 'not drifted'}`,
          },
          f?.drifted ? '●' : '',
        ),
      );
    }
  }
  grid.append(h('div', null));
  const every = Math.max(1, Math.ceil(cols.length / 8));
  const ends = cols.filter((_, i) => i % every === 0).map((w) => w.end);
  const labels = timeTickLabels(ends).map((l) => l.split('\n')[0]);
  cols.forEach((w, i) =>
    grid.append(h('div', { class: 'collabel' }, i % every === 0 ? labels[Math.floor(i / every)] : '')),
  );
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

/** Tick spacings a time axis may use (ms): round seconds, minutes, hours and days. */
const TIME_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
].map((s) => s * 1000);

/** Ticks at multiples of the smallest round step that gives at most `max` of them within [t0, t1]. */
export function roundTimeTicks(t0, t1, max) {
  const step = TIME_STEPS.find((s) => Math.floor(t1 / s) - Math.ceil(t0 / s) + 1 <= max) ?? TIME_STEPS.at(-1);
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return ticks;
}

/** Width of a label in the timeline's font, measured once per text. */
const measureCanvas = document.createElement('canvas').getContext('2d');
function labelWidth(text) {
  measureCanvas.font = '600 11px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';
  return measureCanvas.measureText(text).width;
}

/** Rows of labels above the timeline; a label that fits none is left to its marker's tooltip. */
const LABEL_ROWS = [14, 28, 42];

/**
 * Lay labels out in rows without overlap: each label (centred on its x, kept inside the strip)
 * takes the first row where it clears the previous label by `gap`. Returns the row per label id,
 * or -1 for a label that fits no row.
 * @param {{ id: string, x: number, text: string }[]} labels sorted by x
 */
export function layoutLabels(labels, { width, rows = LABEL_ROWS.length, gap = 6, measure = labelWidth }) {
  const rightEdge = new Array(rows).fill(-Infinity);
  const placed = new Map();
  for (const label of labels) {
    const w = measure(label.text);
    const left = Math.min(Math.max(label.x - w / 2, 2), width - w - 2);
    const row = rightEdge.findIndex((edge) => left >= edge + gap);
    placed.set(label.id, { row, left, width: w });
    if (row >= 0) rightEdge[row] = left + w;
  }
  return placed;
}

/** Decision timeline strip: one marker per decision, labels that never overlap; click opens its provenance. */
export function decisionTimeline(el, decisions, onOpen) {
  const width = Math.max(400, el.clientWidth - 4);
  const height = 104;
  const lineY = 62;
  if (decisions.length === 0) return el.replaceChildren(h('p', { class: 'muted' }, 'No decisions yet.'));
  const t0 = Math.min(...decisions.map((d) => d.at));
  const t1 = Math.max(...decisions.map((d) => d.at), t0 + 60_000);
  const x = (t) => 50 + ((t - t0) / (t1 - t0)) * (width - 100);
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'decision timeline',
  });
  root.append(svg('line', { x1: 40, x2: width - 40, y1: lineY, y2: lineY, stroke: '#ced4da' }));
  // Time ticks at round times, as many as fit, 24-hour UTC, the date where the day changes.
  const ticks = roundTimeTicks(t0, t1, Math.max(2, Math.min(8, Math.floor((width - 100) / 130))));
  timeTickLabels(ticks).forEach((text, i) => {
    const [clock, day] = text.split('\n');
    root.append(
      svg(
        'text',
        { class: 'tick', x: x(ticks[i]), y: day ? 84 : 90, 'text-anchor': 'middle', 'font-size': 11, fill: '#5f6b7a' },
        clock,
      ),
    );
    if (day)
      root.append(
        svg('text', { x: x(ticks[i]), y: 98, 'text-anchor': 'middle', 'font-size': 10, fill: '#8a94a3' }, day),
      );
  });
  const sorted = [...decisions]
    .sort((a, b) => (a.kind === 'no-action') - (b.kind === 'no-action') || a.at - b.at)
    .reverse();
  const majors = decisions.filter((d) => d.kind !== 'no-action').sort((a, b) => a.at - b.at);
  const layout = layoutLabels(
    majors.map((d) => ({ id: d.decisionId, x: x(d.at), text: d.kind })),
    { width },
  );
  // Leader lines under everything, so no line crosses another decision's label.
  const leaders = svg('g', { class: 'leaders' });
  root.append(leaders);
  let hidden = 0;
  for (const d of sorted) {
    const major = d.kind !== 'no-action';
    const g = svg('g', {
      class: 'marker',
      'data-decision': d.decisionId,
      'data-kind': d.kind,
      onclick: () => onOpen(d.decisionId),
    });
    g.append(svg('title', null, `${d.kind} · ${instant(d.at)} · ${d.version}\n${d.reasonText ?? d.reason}`));
    if (major) {
      g.append(
        svg('circle', {
          cx: x(d.at),
          cy: lineY,
          r: 7,
          fill: KIND_COLOR[d.kind] ?? '#495057',
          stroke: '#fff',
          'stroke-width': 2,
        }),
      );
      const place = layout.get(d.decisionId);
      if (place && place.row >= 0) {
        const y = LABEL_ROWS[place.row];
        leaders.append(svg('line', { x1: x(d.at), x2: x(d.at), y1: y + 3, y2: lineY - 8, stroke: '#dde2e8' }));
        g.append(
          svg(
            'text',
            {
              class: 'label',
              x: place.left,
              y,
              'font-size': 11,
              'font-weight': 600,
              fill: KIND_COLOR[d.kind] ?? '#495057',
              // A white halo hides the leader lines that pass behind it.
              stroke: '#fff',
              'stroke-width': 3,
              'paint-order': 'stroke',
            },
            d.kind,
          ),
        );
      } else hidden += 1;
    } else {
      g.append(svg('rect', { x: x(d.at) - 1.5, y: lineY - 8, width: 3, height: 16, fill: KIND_COLOR['no-action'] }));
      // A wider transparent target, so the thin bar is easy to click.
      g.append(svg('rect', { x: x(d.at) - 4, y: lineY - 10, width: 8, height: 20, fill: 'transparent' }));
    }
    root.append(g);
  }
  const note =
    hidden > 0
      ? [
          h(
            'p',
            { class: 'muted', id: 'timeline-hidden' },
            `${hidden === 1 ? '1 label' : `${hidden} labels`} left out where markers crowd: hover a marker for its decision.`,
          ),
        ]
      : [];
  el.replaceChildren(root, ...note);
}

/**
 * Interval plot: rows of estimate with a confidence interval, with reference lines.
 * rows: [{ label, value, lower, upper, color }]; refs: [{ at, label, color, dash }]; values in display units,
 * written by `format` (two decimals unless given).
 */
export function intervalPlot(rows, { refs = [], unit, axisLabel, width = 560, format = (v) => v.toFixed(2) }) {
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
        `${format(r.value)}${unit}${Number.isFinite(r.lower) ? ` [${format(r.lower)}, ${format(r.upper)}]` : ''}`,
      ),
    );
  });
  root.append(svg('line', { x1: left, x2: width - right, y1: plotBottom, y2: plotBottom, stroke: '#adb5bd' }));
  const ticks = niceTicks(lo, hi, 5);
  const tickLabels = niceTickLabels(ticks, unit);
  ticks.forEach((v, i) => {
    root.append(svg('line', { x1: x(v), x2: x(v), y1: plotBottom, y2: plotBottom + 4, stroke: '#adb5bd' }));
    root.append(
      svg(
        'text',
        { x: x(v), y: plotBottom + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#5f6b7a', class: 'tick' },
        tickLabels[i],
      ),
    );
  });
  root.append(
    svg(
      'text',
      { x: (left + width - right) / 2, y: plotBottom + 32, 'text-anchor': 'middle', 'font-size': 11, fill: '#5f6b7a' },
      axisLabel,
    ),
  );
  return h('div', { class: 'forest' }, root);
}

/**
 * How a paired evaluation's mean improvement settled as pairs accumulated: the running mean of
 * d = champion's − challenger's loss over the first n pairs with its interval (filled band), the
 * bar the verdict had to clear and no change (0), and at the last pair the verdict's own interval
 * (a black error bar). `points`: [{ n, mean, lower, upper }]; `verdict`: { improvement, lower,
 * upper } or null; `barLabel`: 'bar' or 'margin'; `level`: the intervals' level as text. The y range follows the curve from a tenth of the pairs on, so the first few
 * pairs' very wide intervals do not flatten the rest (they are clipped, not dropped).
 */
export function runningMeanChart(
  el,
  { points, bar, barLabel = 'bar', level = '95%', verdict, yLabel, format, height = 240 },
) {
  const xs = points.map((p) => p.n);
  const last = xs.at(-1);
  const settled = points.filter((p) => p.n >= last / 10);
  const ys = [
    ...settled.flatMap((p) => [p.mean, p.lower, p.upper]),
    0,
    ...(Number.isFinite(bar) ? [bar] : []),
    ...(verdict ? [verdict.lower, verdict.upper, verdict.improvement] : []),
  ].filter((v) => v !== null && Number.isFinite(v));
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
  const line = (label, stroke, values, extra = {}) => ({
    series: {
      label,
      stroke,
      width: 1.5,
      points: { show: false },
      spanGaps: true,
      value: (_u, v) => (v === null || v === undefined ? '–' : format(v)),
      ...extra,
    },
    values,
  });
  const flat = (value) => xs.map(() => value);
  // A bar of 0 is no change itself: one line, named for both.
  const barIsZero = bar === 0;
  const lines = [
    line(
      'mean improvement',
      '#3b5bdb',
      points.map((p) => p.mean),
      { width: 2.5 },
    ),
    line(
      `${level} interval low`,
      '#748ffc',
      points.map((p) => p.lower),
      { width: 1, dash: [3, 3] },
    ),
    line(
      `${level} interval high`,
      '#748ffc',
      points.map((p) => p.upper),
      { width: 1, dash: [3, 3] },
    ),
    barIsZero
      ? line(`no change (the ${barLabel})`, '#c53030', flat(0), { width: 1.5, dash: [5, 4] })
      : line('no change', '#868e96', flat(0), { width: 1 }),
  ];
  if (Number.isFinite(bar) && !barIsZero)
    lines.push(line(`${barLabel} ${format(bar)}`, '#c53030', flat(bar), { dash: [5, 4] }));
  const band = (u) => {
    const ctx = u.ctx;
    const known = points.filter((p) => p.lower !== null && p.upper !== null);
    if (known.length < 2) return;
    ctx.save();
    ctx.beginPath();
    known.forEach((p, i) => {
      const x = u.valToPos(p.n, 'x', true);
      const y = u.valToPos(p.upper, 'y', true);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    for (const p of [...known].reverse()) ctx.lineTo(u.valToPos(p.n, 'x', true), u.valToPos(p.lower, 'y', true));
    ctx.closePath();
    ctx.fillStyle = '#3b5bdb1f';
    ctx.fill();
    ctx.restore();
  };
  const verdictBar = (u) => {
    if (!verdict) return;
    const ctx = u.ctx;
    const dpr = devicePixelRatioSafe();
    const x = u.valToPos(last, 'x', true) - 6 * dpr;
    const [top, bottom] = [u.valToPos(verdict.upper, 'y', true), u.valToPos(verdict.lower, 'y', true)];
    ctx.save();
    ctx.strokeStyle = '#1d2430';
    ctx.lineWidth = 2 * dpr;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    for (const y of [top, bottom]) {
      ctx.moveTo(x - 4 * dpr, y);
      ctx.lineTo(x + 4 * dpr, y);
    }
    ctx.stroke();
    ctx.fillStyle = '#1d2430';
    ctx.beginPath();
    ctx.arc(x, u.valToPos(verdict.improvement, 'y', true), 3.5 * dpr, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
  };
  return numericXChart(el, {
    height,
    xRange: (_u, min, max) => (min === max ? [0, max + 1] : [0, max]),
    yRange: () => [lo - pad, hi + pad],
    xLabel: 'paired events so far',
    yAxis: { label: yLabel, size: 64 },
    series: [{ label: 'pairs', value: (_u, v) => (v === null ? '–' : String(v)) }, ...lines.map((l) => l.series)],
    hooks: { drawClear: [band], draw: [verdictBar] },
    data: [xs, ...lines.map((l) => l.values)],
  });
}

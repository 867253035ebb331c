// Small DOM and formatting helpers for the dashboard (plain ES module, no build step).

/**
 * Create an element. Text children are text nodes (never parsed as HTML).
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function')
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key === 'dataset' && typeof value === 'object') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Percent with one decimal, e.g. 0.9234 → "92.3%". */
export const pct = (x, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
export const fixed = (x, digits = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);

// The three formats below are detectors/texts/format.ts written again for the browser (the
// dashboard loads no project code); test/unit/dashboard-formats.test.ts holds them equal.

const HOUR = 3_600_000;

/** A duration as a person says it: "0.4 s", "45 s", "2 min 30 s", "1 h 5 min", "3 d 4 h" (formatDuration). */
export function duration(ms) {
  if (Number.isNaN(ms) || ms === null || ms === undefined) return '—';
  if (ms < 0) return `-${duration(-ms)}`;
  if (!Number.isFinite(ms)) return 'forever';
  const pair = (major, majorUnit, minor, minorUnit) =>
    minor === 0 ? `${major} ${majorUnit}` : `${major} ${majorUnit} ${minor} ${minorUnit}`;
  const seconds = ms / 1000;
  if (seconds === 0) return '0 s';
  if (seconds < 0.05) return '< 0.1 s';
  if (seconds < 9.95) return `${seconds.toFixed(1).replace(/\.0$/, '')} s`;
  if (seconds < 59.5) return `${Math.round(seconds)} s`;
  const wholeSeconds = Math.round(seconds);
  if (wholeSeconds < 600) return pair(Math.floor(wholeSeconds / 60), 'min', wholeSeconds % 60, 's');
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return pair(Math.floor(minutes / 60), 'h', minutes % 60, 'min');
  const hoursTotal = Math.round(ms / HOUR);
  if (hoursTotal < 100 * 24) return pair(Math.floor(hoursTotal / 24), 'd', hoursTotal % 24, 'h');
  return `${Math.round(ms / (24 * HOUR))} d`;
}

/** An instant as "2026-12-04 13:45:10 UTC": 24-hour clock, the zone named (formatInstant). */
export const instant = (ms) =>
  ms === null || ms === undefined || !Number.isFinite(ms)
    ? '—'
    : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** An estimated duration in hours with its interval, one unit: "24.2 h (90% CI 20.1–30.4 h)" (formatEstimateHours). */
export function estimateHours(hours, interval) {
  if (hours === null || hours === undefined || Number.isNaN(hours)) return '—';
  if (!Number.isFinite(hours)) return hours > 0 ? 'never' : '—';
  const [unit, per] = hours < 1 ? ['min', 1 / 60] : hours < 72 ? ['h', 1] : ['d', 24];
  const figure = (x) => {
    const v = x / per;
    return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  };
  const text = `${figure(hours)} ${unit}`;
  if (!interval) return text;
  const level = `${Math.round((interval.level ?? 0.9) * 100)}% CI`;
  return interval.upper === null || interval.upper === undefined
    ? `${text} (${level} ${figure(interval.lower)} ${unit}–∞)`
    : `${text} (${level} ${figure(interval.lower)}–${figure(interval.upper)} ${unit})`;
}

/** "3 h 5 min ago" / "in 2 min" / "now", in {@link duration}'s form. */
export function relative(ms, now = Date.now()) {
  const d = ms - now;
  if (Math.abs(d) < 1000) return 'now';
  return d < 0 ? `${duration(-d)} ago` : `in ${duration(d)}`;
}

/**
 * Labels for a time axis (UTC, 24-hour): "HH:MM", with seconds when ticks are under a minute
 * apart, and the date under the first tick and wherever the day changes.
 * @param {number[]} ticks epoch ms
 */
export function timeTickLabels(ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : HOUR;
  return ticks.map((t, i) => {
    const iso = new Date(t).toISOString();
    const clock = step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
    const day = iso.slice(0, 10);
    const dayBefore = i > 0 ? new Date(ticks[i - 1]).toISOString().slice(0, 10) : null;
    return day !== dayBefore ? `${clock}\n${day}` : clock;
  });
}

/**
 * Labels for a percent axis with as many decimals as the tick step needs, so neighbouring ticks
 * never read the same ("94.2%", "94.4%", not "94%", "94%").
 * @param {number[]} ticks values in percent
 */
export function percentTickLabels(ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  // The fewest decimals that write the step exactly (2.5 → 1, 0.25 → 2).
  let decimals = 0;
  while (decimals < 4 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6 * 10 ** decimals)
    decimals++;
  return ticks.map((v) => `${v.toFixed(decimals)}%`);
}

/**
 * Round tick values across [lo, hi]: a step of 1, 2 or 5 × 10^k giving about `target` ticks, each a
 * multiple of the step (arbitrary fractions of the span labelled to one decimal misread the axis:
 * "-0.0" at −0.06, "0.0" at 0.03).
 */
export function niceTicks(lo, hi, target = 5) {
  if (!(hi > lo)) return [lo];
  const magnitude = 10 ** Math.floor(Math.log10((hi - lo) / target));
  const count = (step) => Math.floor(hi / step + 1e-9) - Math.ceil(lo / step - 1e-9) + 1;
  // The 1-2-5 step whose tick count is nearest the target (at least two ticks; ties: the coarser).
  let step = 10 * magnitude;
  for (const s of [0.5, 1, 2, 5, 10, 20].map((m) => m * magnitude))
    if (count(s) >= 2 && Math.abs(count(s) - target) <= Math.abs(count(step) - target)) step = s;
  // Rounded to the step's own decimals so 0.30000000000000004 is 0.3 and −0 is 0.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    ticks.push(Number((k * step).toFixed(decimals)) + 0);
  return ticks;
}

/** Labels of {@link niceTicks}: the step's decimals, the unit after each. */
export function niceTickLabels(ticks, unit = '') {
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return ticks.map((v) => `${(v === 0 ? 0 : v).toFixed(decimals)}${unit}`);
}

/** Metrics whose value is the monitor's quality itself; every other (log loss, MAE, RMSE, R²) is turned into one. */
const QUALITY_METRICS = new Set(['accuracy', 'auc', 'macro_f1', 'quality']);

/** How a quality axis or card names what it shows: the metric, or the quality derived from it. */
export const qualityLabel = (metric) =>
  !metric || QUALITY_METRICS.has(metric) ? metric || 'quality' : `quality from ${metric}`;

export const healthBadge = (health) => h('span', { class: `badge h-${health}`, 'data-health': health }, health);
export const kindBadge = (kind) => h('span', { class: `badge k-${kind}` }, kind);

/** A fixed palette for versions, so v1, v2… keep their colour across charts. */
const PALETTE = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#c2255c', '#5c940d'];
export function versionColor(version) {
  const n = Number(String(version).replace(/^v/, ''));
  return PALETTE[(Number.isFinite(n) ? n - 1 : 0) % PALETTE.length];
}

/**
 * A promotion bar as text: percentage points to one decimal, a loss difference to two significant
 * digits (a log-loss margin of −0.01 printed to one decimal read "-0.0").
 */
export function barText(value, isAccuracy) {
  return isAccuracy ? value.toFixed(1) : String(Number(value.toPrecision(2)));
}

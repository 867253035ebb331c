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
/** Hours as "25.6 h", or days for long spans. */
export function hours(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x >= 72) return `${(x / 24).toFixed(1)} d`;
  return `${x.toFixed(1)} h`;
}
export const fixed = (x, digits = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
/** UTC date-time, e.g. "2026-11-26 14:00 UTC". */
export const utc = (ms) =>
  ms === null || ms === undefined ? '–' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
export const utcShort = (ms) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');
/** "3 h ago" / "in 2.3 h". */
export function relative(ms, now = Date.now()) {
  const d = (ms - now) / 3_600_000;
  const a = Math.abs(d);
  const text =
    a < 1 / 60
      ? 'now'
      : a < 1
        ? `${Math.round(a * 60)} min`
        : a < 72
          ? `${a.toFixed(1)} h`
          : `${(a / 24).toFixed(1)} d`;
  if (text === 'now') return text;
  return d < 0 ? `${text} ago` : `in ${text}`;
}

export const healthBadge = (health) => h('span', { class: `badge h-${health}`, 'data-health': health }, health);
export const kindBadge = (kind) => h('span', { class: `badge k-${kind}` }, kind);

/** A fixed palette for versions, so v1, v2… keep their colour across charts. */
const PALETTE = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#c2255c', '#5c940d'];
export function versionColor(version) {
  const n = Number(String(version).replace(/^v/, ''));
  return PALETTE[(Number.isFinite(n) ? n - 1 : 0) % PALETTE.length];
}

/** Half-life with its interval, e.g. "25.6 h (90% CI 21.3–32.0 h)". */
export function halfLifeText(decay) {
  if (!decay || decay.halfLifeHours === null || decay.halfLifeHours === undefined)
    return decay?.model === 'none' ? 'no decay detected' : '–';
  const i = decay.halfLifeInterval;
  if (!i) return hours(decay.halfLifeHours);
  const level = Math.round((i.level ?? 0.9) * 100);
  return `${hours(decay.halfLifeHours)} (${level}% CI ${i.lower.toFixed(1)}–${i.upper === null ? '∞' : i.upper.toFixed(1)} h)`;
}

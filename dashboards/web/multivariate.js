// Multivariate drift on the model page: the tests of the joint distribution the policy runs on
// a hash sample of each window and its reference — domain classifier (cross-validated ROC AUC
// and its p), PCA reconstruction error (against the reference's band), MMD (per scalar set and
// per vector feature, with its permutation p) — for the newest window that ran them, with the
// features that drive each, and a strip of recent windows' verdicts per test.
import { h, instant } from './util.js';

const three = (v) => (v === null || v === undefined ? '–' : v.toFixed(3));
const pValue = (v) =>
  v === null || v === undefined
    ? '–'
    : v >= 0.01
      ? v.toFixed(3)
      : v >= 0.0001
        ? String(Number(v.toPrecision(2)))
        : v.toExponential(1);

const TEST_NAMES = {
  'domain-classifier': 'Domain classifier',
  'pca-reconstruction': 'PCA reconstruction error',
  mmd: 'MMD',
};
const STATISTIC_NAMES = { roc_auc: 'AUC', reconstruction_error: 'error', mmd2: 'MMD²' };

/** One test's row key: the test and what it read (MMD runs once per vector feature). */
const keyOf = (t) => (t.test === 'mmd' ? `mmd:${t.features.join(',')}` : t.test);
const labelOf = (t) =>
  t.test === 'mmd'
    ? `MMD on ${t.features.length === 1 ? t.features[0] : `${t.features.length} numeric features`}`
    : (TEST_NAMES[t.test] ?? t.test);

/** The panel, or null when no window ran the multivariate tests (the policy's `multivariate` is off). */
export function multivariatePanel(windows) {
  const tested = windows.filter((w) => w.multivariate);
  const latest = tested.at(-1);
  if (!latest) return null;
  const mv = latest.multivariate;
  const rows = mv.tests.map((t) =>
    h(
      'tr',
      { 'data-test': keyOf(t), 'data-drifted': t.drifted ? 'true' : 'false' },
      h('td', null, labelOf(t)),
      h('td', { class: 'num', title: t.reason }, `${STATISTIC_NAMES[t.statistic] ?? t.statistic} ${three(t.value)}`),
      h('td', { class: 'num' }, `${pValue(t.pvalue)} (level ${pValue(t.level)})`),
      h(
        'td',
        { class: 'num' },
        t.band ? `[${three(t.band.lower)}, ${three(t.band.upper)}] ref ${three(t.band.reference)}` : '–',
      ),
      h(
        'td',
        null,
        t.drifted ? h('span', { class: 'badge h-drifting' }, 'drifted') : h('span', { class: 'badge h-healthy' }, 'ok'),
      ),
      h(
        'td',
        { class: 'drivers' },
        t.driving.length > 0
          ? t.driving.map((d) => `${d.feature} ${Math.round((d.share ?? 0) * 100)}%`).join(', ')
          : h('span', { class: 'muted' }, t.features.length === 1 ? t.features[0] : '–'),
      ),
    ),
  );
  // Recent windows × tests: ● drifted, ○ not, blank: not run.
  const recent = tested.slice(-24);
  const keys = [];
  const labels = new Map();
  for (const w of recent)
    for (const t of w.multivariate.tests)
      if (!labels.has(keyOf(t))) {
        keys.push(keyOf(t));
        labels.set(keyOf(t), labelOf(t));
      }
  const strip = h(
    'table',
    { class: 'multivariate-history' },
    h(
      'tbody',
      null,
      ...keys.map((key) =>
        h(
          'tr',
          null,
          h('th', null, labels.get(key)),
          ...recent.map((w) => {
            const t = w.multivariate.tests.find((x) => keyOf(x) === key);
            return h(
              'td',
              {
                class: t?.drifted ? 'mv-drifted' : 'mv-quiet',
                title: `${instant(w.end)}${t ? `\n${t.reason}` : '\nnot run'}`,
              },
              t ? (t.drifted ? '●' : '○') : '',
            );
          }),
        ),
      ),
    ),
  );
  const drivers = [...new Set(mv.tests.filter((t) => t.drifted).flatMap((t) => t.driving.map((d) => d.feature)))];
  return h(
    'section',
    { class: 'panel', id: 'multivariate', 'data-dataset-drift': mv.datasetDrift ? 'true' : 'false' },
    h('h2', null, 'Multivariate drift'),
    h(
      'p',
      { class: 'sub' },
      `Window ending ${instant(latest.end)}: tests of the joint distribution on ${mv.sample?.window ?? '–'} sampled rows of the window against ${mv.sample?.reference ?? '–'} of the reference, each at a Bonferroni share of ${pValue(mv.alpha)}. ${mv.datasetDrift ? `Drifted${drivers.length > 0 ? `, driven by ${drivers.join(', ')}` : ''}.` : 'No test drifted.'}`,
    ),
    h(
      'table',
      { class: 'multivariate-tests' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Test', 'Statistic', 'p (level)', 'Reference band', 'Verdict', 'Driven by'].map((t) => h('th', null, t)),
        ),
      ),
      h('tbody', null, ...rows),
    ),
    h('p', { class: 'sub' }, `Recent windows (oldest left): ● drifted · ○ not drifted. Hover for the figures.`),
    strip,
  );
}

/* global location */
// Provenance of one decision: what was decided, why, under which policy, on which statistics,
// thresholds and guards, and where its workflow is in the Temporal UI.
import { api, app } from './api.js';
import { h, kindBadge, pct, estimateHours, instant, fixed } from './util.js';

let openId = null;

export function closeProvenance() {
  const drawer = document.getElementById('drawer');
  openId = null;
  drawer.hidden = true;
  drawer.replaceChildren();
}

/** The Temporal UI address of a workflow run, when the UI is known (local dev server). */
export function temporalLink(workflowId, runId) {
  const t = app.config?.temporal;
  if (!t?.uiUrl || !workflowId) return null;
  return `${t.uiUrl}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}`;
}

export async function openProvenance(decisionId) {
  if (openId === decisionId) return;
  openId = decisionId;
  const drawer = document.getElementById('drawer');
  drawer.hidden = false;
  drawer.replaceChildren(h('p', { class: 'muted' }, 'Loading decision…'));
  const d = await api(`/v1/decisions/${encodeURIComponent(decisionId)}`);
  if (openId !== decisionId) return;
  const close = h(
    'button',
    {
      type: 'button',
      id: 'drawer-close',
      onclick: () => (location.hash = location.hash.replace(/\/decision\/.*$/, '')),
    },
    'Close',
  );
  const link = temporalLink(d.workflowId, d.runId);
  const s = d.statistics ?? {};
  drawer.replaceChildren(
    h(
      'div',
      { id: 'provenance', 'data-decision': d.decisionId },
      h(
        'div',
        { style: { display: 'flex', justifyContent: 'space-between', alignItems: 'center' } },
        h('h2', null, 'Decision ', kindBadge(d.kind)),
        close,
      ),
      h('p', { id: 'prov-reason', style: { fontSize: '15px' } }, d.reasonText ?? d.reason),
      kv([
        ['decided at', instant(d.decidedAt)],
        ['model / version', `${d.modelId} ${d.modelVersion || '–'}`],
        ['actor', d.actor],
        ['decision id', h('code', null, d.decisionId)],
        ['policy', h('span', { id: 'prov-policy' }, `${d.policy.name} v${d.policy.version}`)],
        ['policy hash (sha256)', h('code', { id: 'prov-policy-hash' }, d.policy.hash)],
        ['workflow', h('span', null, h('code', null, d.workflowId), ' run ', h('code', null, d.runId))],
        [
          'Temporal UI',
          link
            ? h(
                'a',
                { href: link, target: '_blank', rel: 'noopener', id: 'prov-temporal-link' },
                'open this workflow run',
              )
            : h('span', { class: 'muted' }, 'UI address unknown (external Temporal)'),
        ],
        ['lineage (snapshot)', d.lineageId || '–'],
        [
          'training window',
          d.trainingWindow
            ? `${d.trainingWindow.start === null ? 'all history' : instant(d.trainingWindow.start)} → ${instant(d.trainingWindow.end)}`
            : '–',
        ],
        [
          'data windows',
          Array.isArray(d.windows) ? d.windows.map((w) => `${instant(w.start)} → ${instant(w.end)}`).join('; ') : '–',
        ],
      ]),
      section('Statistics', statistics(s, d.economicsStatement, d.halfLife)),
      d.probeStatement?.length
        ? section(
            'Challenger probe',
            h(
              'ul',
              { id: 'prov-probe' },
              d.probeStatement.map((line) => h('li', null, line)),
            ),
          )
        : null,
      section('Thresholds', thresholds(d.thresholds)),
      section('Guards', guards(d.details?.guards)),
      section(
        'Everything recorded',
        h(
          'details',
          null,
          h('summary', null, 'raw JSON (statistics, thresholds, details)'),
          h(
            'pre',
            null,
            JSON.stringify({ statistics: d.statistics, thresholds: d.thresholds, details: d.details }, null, 2),
          ),
        ),
      ),
    ),
  );
}

function kv(pairs) {
  return h(
    'dl',
    { class: 'kv' },
    pairs.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

function section(title, body) {
  return h('div', { class: 'section' }, h('h2', null, title), body);
}

/** The recorded fit's half-life, only when it had the evidence for one (the API says: detectors/decay/evidence.ts). */
function halfLifeOf(halfLife) {
  if (!halfLife) return '–';
  return halfLife.reportable ? `half-life ${halfLife.text}` : `no half-life (${halfLife.reason})`;
}

function statistics(s, statement, halfLife) {
  const pairs = [];
  if (s.quality) {
    const r = s.quality.realised;
    pairs.push([
      'quality (realised)',
      r
        ? h(
            'span',
            { 'data-stat': 'quality' },
            `${pct(r.value)} ${s.quality.metric}, n=${r.n}${r.interval ? `, 95% CI ${pct(r.interval.lower)}–${pct(r.interval.upper)}` : ''}`,
          )
        : '–',
    ]);
    if (s.quality.estimated)
      pairs.push([
        'quality (estimated, CBPE)',
        `${pct(s.quality.estimated.value)} ${s.quality.metric}${s.quality.estimated.interval ? `, 95% CI ${pct(s.quality.estimated.interval.lower)}–${pct(s.quality.estimated.interval.upper)}` : ''}${s.quality.estimated.threshold !== undefined && s.quality.metric === 'accuracy' ? ` at threshold ${s.quality.estimated.threshold}` : ''}, ${s.quality.estimated.n} events${s.quality.estimated.trustworthy ? '' : ' (not trusted)'}`,
      ]);
    pairs.push(['quality used', s.quality.used ?? '–']);
  }
  if (s.drift)
    pairs.push([
      'drift',
      `${s.drift.dataset_drift ? 'DATASET DRIFT' : 'no dataset drift'} — ${s.drift.n_drifted}/${s.drift.n_tested} features drifted (share ${fixed(s.drift.share_drifted, 2)})${s.drift.drifted_features?.length ? `: ${s.drift.drifted_features.join(', ')}` : ''}`,
    ]);
  if (s.dataQuality)
    pairs.push([
      'data quality',
      `${s.dataQuality.ok ? 'ok' : 'ALERT'} — ${s.dataQuality.rows} rows, dead-letter rate ${pct(s.dataQuality.dead_letter_rate, 2)}${s.dataQuality.alerts?.length ? `; ${s.dataQuality.alerts.join('; ')}` : ''}`,
    ]);
  if (s.changePoint)
    pairs.push([
      'change point',
      `${s.changePoint.detected ? 'detected' : 'none'} (Page–Hinkley ${fixed(s.changePoint.statistic, 3)})`,
    ]);
  if (s.decay) {
    pairs.push([
      'decay fit',
      h(
        'span',
        { 'data-stat': 'decay' },
        `${s.decay.model}: ${halfLifeOf(halfLife)}, q0 ${pct(s.decay.q0)}, floor ${pct(s.decay.floor)}, n=${s.decay.n}${s.decay.prior ? ', with population prior' : ''}`,
      ),
    ]);
    if (s.decay.timeToBreach)
      pairs.push([
        'time to SLO breach (at decision)',
        `${s.decay.timeToBreach.hours === null ? 'never' : s.decay.timeToBreach.hours === 0 ? 'already breached' : estimateHours(s.decay.timeToBreach.hours)} (SLO ${pct(s.decay.timeToBreach.slo, 0)})`,
      ]);
  }
  if (statement) {
    pairs.push([
      'economics',
      h(
        'span',
        { 'data-stat': 'economics', 'data-verdict': statement.verdict },
        h('strong', null, statement.label),
        ` (${statement.rule} rule): ${statement.text}`,
      ),
    ]);
  }
  const verdict = s.verdict ?? s.shadow?.verdict;
  if (verdict) {
    const st = verdict.statistics ?? {};
    const imp = st.improvement;
    pairs.push([
      'promotion verdict',
      h('span', { 'data-stat': 'verdict' }, `${verdict.decision} — ${st.test} on ${st.metric}, n=${st.n}`),
    ]);
    if (imp)
      pairs.push([
        'improvement',
        h(
          'span',
          { 'data-stat': 'improvement' },
          `${fixed(imp.improvement, 4)} (${Math.round((imp.level ?? 0.95) * 100)}% CI ${fixed(imp.lower, 4)} to ${fixed(imp.upper, 4)}; champion ${fixed(imp.champion, 4)}, challenger ${fixed(imp.challenger, 4)}; bar ${fixed(st.bar, 4)})`,
        ),
      ]);
    for (const r of verdict.reasons ?? []) pairs.push(['reason', r]);
  }
  if (s.validation)
    pairs.push([
      'offline validation',
      `${s.validation.passed ? 'passed' : 'failed'}${s.validation.candidate?.accuracy !== undefined ? ` — candidate accuracy ${pct(s.validation.candidate.accuracy)}` : ''}${s.validation.champion?.accuracy !== undefined ? `, champion ${pct(s.validation.champion.accuracy)}` : ''}`,
    ]);
  return pairs.length ? kv(pairs) : h('p', { class: 'muted' }, 'No statistics recorded.');
}

function thresholds(t) {
  if (!t || typeof t !== 'object') return h('p', { class: 'muted' }, 'None recorded.');
  const flat = [];
  const walk = (prefix, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    else flat.push([prefix, Array.isArray(v) ? JSON.stringify(v) : String(v)]);
  };
  walk('', t);
  return h(
    'table',
    { id: 'prov-thresholds' },
    h(
      'tbody',
      null,
      flat.map(([k, v]) => h('tr', null, h('td', null, h('code', null, k)), h('td', { class: 'num' }, v))),
    ),
  );
}

function guards(list) {
  if (!Array.isArray(list) || list.length === 0) return h('p', { class: 'muted' }, 'No guards applied.');
  return h(
    'table',
    { id: 'prov-guards' },
    h('thead', null, h('tr', null, h('th', null, 'guard'), h('th', null, 'result'), h('th', null, 'detail'))),
    h(
      'tbody',
      null,
      list.map((g) =>
        h(
          'tr',
          null,
          h('td', null, g.guard),
          h('td', null, g.passed ? 'passed' : g.overridden ? 'overridden' : 'BLOCKED'),
          h('td', null, g.detail),
        ),
      ),
    ),
  );
}

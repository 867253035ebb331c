/* global location */
// Fleet view: every model with its stage, health, quality, half-life, time to SLO breach and last decision.
import { alertsPanel } from './alerts.js';
import { api } from './api.js';
import { h, healthBadge, kindBadge, pct, estimateHours, relative, instant } from './util.js';

export async function renderFleet(main, { full }) {
  const data = await api('/v1/dashboard/fleet');
  document.getElementById('crumbs').replaceChildren(h('span', null, 'Fleet'));
  const now = data.generatedAt;
  const rows = data.models.map((m) => {
    const q = m.quality;
    const ttb = m.decay?.timeToBreach;
    return h(
      'tr',
      {
        class: 'clickable',
        'data-model': m.modelId,
        onclick: () => (location.hash = `#/model/${encodeURIComponent(m.modelId)}`),
      },
      h('td', null, h('a', { href: `#/model/${encodeURIComponent(m.modelId)}` }, h('strong', null, m.modelId))),
      h(
        'td',
        null,
        m.production
          ? h('span', null, h('strong', null, m.production.version), ' production')
          : h('span', { class: 'muted' }, 'none in production'),
        h(
          'div',
          { class: 'muted' },
          `${m.versions} version${m.versions === 1 ? '' : 's'}: ${Object.entries(m.stages)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
        ),
      ),
      h(
        'td',
        { 'data-col': 'health' },
        healthBadge(m.health),
        h('div', { class: 'muted' }, m.live ? 'live from monitor' : 'from last window'),
      ),
      h('td', null, m.stage),
      h(
        'td',
        { class: 'num', 'data-col': 'quality' },
        q && q.value !== null ? h('strong', null, pct(q.value)) : h('span', { class: 'muted' }, '–'),
        q?.interval ? h('div', { class: 'muted' }, `95% CI ${pct(q.interval.lower)}–${pct(q.interval.upper)}`) : null,
        q ? h('div', { class: 'muted' }, `${q.metric}, ${q.source}${q.n ? `, n=${q.n}` : ''}`) : null,
      ),
      h(
        'td',
        { class: 'num', 'data-col': 'halflife' },
        !m.decay
          ? h('span', { class: 'muted' }, 'no fit yet')
          : m.decay.halfLife.reportable
            ? h('span', null, m.decay.halfLife.text)
            : h('span', { class: 'muted' }, m.decay.model === 'none' ? 'no decay detected' : 'not yet'),
        m.decay
          ? h(
              'div',
              { class: 'muted' },
              m.decay.halfLife.reportable
                ? `${m.decay.version}, ${m.decay.model} fit`
                : `${m.decay.version}: ${m.decay.halfLife.reason.replace(/^no decay detected: /, '')}`,
            )
          : null,
      ),
      h(
        'td',
        { class: 'num', 'data-col': 'breach' },
        !ttb || !m.decay.halfLife.reportable
          ? h('span', { class: 'muted' }, m.decay?.model === 'none' ? 'not predicted (no decay)' : '–')
          : ttb.hours === null
            ? h('span', null, `never (floor above SLO ${pct(ttb.slo, 0)})`)
            : ttb.hours === 0
              ? h('strong', { style: { color: 'var(--bad)' } }, `breached (SLO ${pct(ttb.slo, 0)})`)
              : h(
                  'span',
                  null,
                  h('strong', null, `in ${estimateHours(ttb.hours)}`),
                  h(
                    'div',
                    { class: 'muted' },
                    `SLO ${pct(ttb.slo, 0)}${
                      ttb.interval
                        ? `, ${estimateHours(ttb.hours, { ...ttb.interval, level: 0.9 })
                            .split(' (')[1]
                            .replace(')', '')}`
                        : ''
                    }`,
                  ),
                ),
      ),
      h(
        'td',
        { 'data-col': 'last-decision' },
        m.lastDecision
          ? h(
              'span',
              null,
              kindBadge(m.lastDecision.kind),
              ' ',
              h('span', { class: 'muted', title: instant(m.lastDecision.at) }, relative(m.lastDecision.at, now)),
            )
          : '–',
        m.lastDecision
          ? h(
              'div',
              { class: 'muted reason', style: { maxWidth: '380px' } },
              m.lastDecision.reasonText ?? m.lastDecision.reason,
            )
          : null,
      ),
    );
  });
  const table = h(
    'table',
    { id: 'fleet' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...[
          'Model',
          'Serving',
          'Health',
          'Monitor',
          'Quality now',
          'Half-life',
          'Time to SLO breach',
          'Last decision',
        ].map((t) => h('th', null, t)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.length
        ? rows
        : h(
            'tr',
            null,
            h(
              'td',
              { colspan: 8, class: 'muted' },
              'No models yet: halflife lists a model once it is registered or its monitor records a decision.',
            ),
          ),
    ),
  );
  const page = h(
    'div',
    { id: 'page-fleet' },
    h(
      'h1',
      null,
      'Fleet',
      h(
        'span',
        { class: 'muted', style: { fontSize: '14px', fontWeight: 400 } },
        `${data.models.length} model${data.models.length === 1 ? '' : 's'}`,
      ),
    ),
    h(
      'p',
      { class: 'sub' },
      'Quality is the last evaluated window (realised from labels, or estimated without them). Half-life: age at which half of the quality above the floor is gone, with its profile-likelihood interval. Time to SLO breach: from the decay fit, counted from now.',
    ),
    h('div', { class: 'panel' }, table),
    alertsPanel(),
  );
  if (full || !main.querySelector('#page-fleet')) main.replaceChildren(page);
  else main.querySelector('#page-fleet').replaceWith(page);
}

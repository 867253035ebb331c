// Alerts panel for the fleet and model pages: what fires now, and the latest alert messages with
// how their delivery went per receiver (GET /v1/alerts). It loads on its own, after the page.
import { api } from './api.js';
import { h, instant, relative } from './util.js';

/** Messages shown at most. */
const RECENT = 10;

/**
 * A panel that fills itself: firing alerts first, then the latest messages.
 * @param {{ model?: string }} options  a model's alerts only (model page), or every model's (fleet)
 */
export function alertsPanel({ model } = {}) {
  const body = h('div', { class: 'alerts-body' }, h('p', { class: 'muted' }, 'Loading alerts…'));
  const panel = h(
    'section',
    { class: 'panel', id: 'alerts', 'data-model': model ?? '' },
    h('h2', null, 'Alerts'),
    h(
      'p',
      { class: 'sub' },
      "Messages the policy's alert rules sent (firing, reminders, resolutions) and their delivery to each receiver. Receivers and their secrets are set in the environment, never shown here.",
    ),
    body,
  );
  void fill(body, model);
  return panel;
}

async function fill(body, model) {
  const q = model ? `model=${encodeURIComponent(model)}&` : '';
  try {
    const [firing, recent] = await Promise.all([
      api(`/v1/alerts?${q}status=firing&limit=50`),
      api(`/v1/alerts?${q}limit=${RECENT}`),
    ]);
    body.replaceChildren(
      h(
        'p',
        { class: 'alerts-firing', 'data-firing': firing.length },
        firing.length === 0
          ? h('span', { class: 'muted' }, 'Nothing firing.')
          : h('strong', null, `${firing.length} firing: `),
        ...firing.map((a, i) => h('span', null, i > 0 ? ', ' : '', severityBadge(a.severity), ' ', a.summary)),
      ),
      recent.length === 0
        ? h(
            'p',
            { class: 'muted' },
            'No alert messages yet. Add an alerts section to the retrain policy (README, "Alerts").',
          )
        : table(recent, !model),
    );
  } catch (err) {
    body.replaceChildren(h('p', { class: 'error' }, `Alerts unavailable: ${err.message}`));
  }
}

function table(alerts, withModel) {
  const now = Date.now();
  return h(
    'table',
    { class: 'alerts' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['When', ...(withModel ? ['Model'] : []), 'Severity', 'Type', 'Alert', 'Delivery'].map((t) =>
          h('th', null, t),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      ...alerts.map((a) =>
        h(
          'tr',
          { 'data-alert': a.notificationId, 'data-type': a.type },
          h('td', { title: instant(a.notifiedAt) }, relative(a.notifiedAt, now)),
          withModel ? h('td', null, h('a', { href: `#/model/${encodeURIComponent(a.modelId)}` }, a.modelId)) : null,
          h('td', null, severityBadge(a.severity)),
          h('td', null, h('span', { class: `badge a-${a.type}` }, a.type)),
          h(
            'td',
            null,
            a.summary,
            a.type === 'resolved' && a.resolution ? h('div', { class: 'muted' }, `resolved: ${a.resolution}`) : null,
            h('div', { class: 'muted' }, `rule ${a.rule} · key ${a.key}`),
          ),
          h('td', { class: 'alert-delivery' }, ...delivery(a)),
        ),
      ),
    ),
  );
}

function delivery(alert) {
  if (alert.receivers.length === 0) return [h('span', { class: 'muted' }, 'recorded only (no receivers)')];
  return alert.receivers.map((name) => {
    const d = alert.deliveries.find((x) => x.receiver === name);
    const state = !d ? 'pending' : d.delivered ? 'delivered' : d.lastOutcome;
    const attempts = d ? `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : 'not yet attempted';
    return h(
      'div',
      { 'data-receiver': name, 'data-state': state, title: d?.lastError ?? '' },
      h('strong', null, name),
      ': ',
      h('span', { class: `delivery-${state === 'delivered' ? 'ok' : state === 'pending' ? 'pending' : 'bad'}` }, state),
      h('span', { class: 'muted' }, ` (${attempts})`),
    );
  });
}

const severityBadge = (severity) => h('span', { class: `badge sev-${severity}`, 'data-severity': severity }, severity);

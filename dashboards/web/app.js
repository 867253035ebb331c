/* global sessionStorage, location, URLSearchParams */
// halflife web dashboard: sign-in, routing (#/ fleet, #/model/<id>, #/model/<id>/decision/<id>),
// data calls with the signed-in token, live updates by polling.
import { api, app, TOKEN_KEY, Unauthorized } from './api.js';
import { h } from './util.js';
import { renderFleet } from './fleet.js';
import { renderModel } from './model.js';
import { openProvenance, closeProvenance } from './provenance.js';

/** Poll interval in ms; `?poll=2000` in the page URL changes it. */
const POLL_MS = Math.max(1000, Number(new URLSearchParams(location.search).get('poll')) || 5000);

const main = () => /** @type {HTMLElement} */ (document.getElementById('main'));

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  app.config = null;
  app.charts = {};
  closeProvenance();
  showSignIn(message);
}

function showSignIn(message) {
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  document.getElementById('updated').textContent = '';
  document.getElementById('crumbs').replaceChildren();
  const error = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, message ?? '');
  const input = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'off',
    placeholder: 'hl_…',
    required: true,
  });
  const form = h(
    'form',
    { class: 'panel signin', id: 'signin' },
    h('h2', null, 'Sign in'),
    h(
      'p',
      { class: 'sub' },
      'Paste an API token (viewer role or higher). The admin token is in ',
      h('code', null, '<dataDir>/api-token'),
      ' unless HALFLIFE_API_TOKEN is set. It is kept in this tab only (sessionStorage).',
    ),
    h('label', { for: 'token' }, 'API token'),
    input,
    error,
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await start();
    } catch (err) {
      if (!(err instanceof Unauthorized)) error.textContent = String(err.message ?? err);
    }
  });
  main().replaceChildren(form);
  input.focus();
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 'model' && parts[1])
    return {
      page: 'model',
      model: parts[1],
      decision: parts[2] === 'decision' && parts[3] ? parts.slice(3).join('/') : null,
    };
  return { page: 'fleet' };
}

let timer = null;
let rendering = false;

async function refresh(full) {
  if (rendering) return;
  rendering = true;
  try {
    const route = parseRoute();
    const changedPage = full || !app.route || app.route.page !== route.page || app.route.model !== route.model;
    app.route = route;
    if (route.page === 'model') await renderModel(main(), route.model, { full: changedPage });
    else await renderFleet(main(), { full: changedPage });
    if (route.page === 'model' && route.decision) await openProvenance(route.decision);
    else closeProvenance();
    app.lastUpdate = Date.now();
    document.getElementById('updated').textContent =
      `updated ${new Date(app.lastUpdate).toISOString().slice(11, 19)} UTC · every ${POLL_MS / 1000} s`;
  } catch (err) {
    if (!(err instanceof Unauthorized)) {
      document.getElementById('updated').textContent = `update failed: ${err.message ?? err} (retrying)`;
    }
  } finally {
    rendering = false;
  }
}

async function start() {
  app.config = await api('/v1/dashboard/config');
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = app.config.identity
    ? `${app.config.identity.name} (${app.config.identity.role})`
    : '';
  await refresh(true);
  clearInterval(timer);
  timer = setInterval(() => {
    if (sessionStorage.getItem(TOKEN_KEY)) void refresh(false);
  }, POLL_MS);
}

document.getElementById('signout').addEventListener('click', () => {
  clearInterval(timer);
  signOut('Signed out.');
});
document.addEventListener('halflife:refresh', () => void refresh(false));
window.addEventListener('hashchange', () => {
  if (sessionStorage.getItem(TOKEN_KEY)) void refresh(false);
});

app.onUnauthorized = (message) => {
  clearInterval(timer);
  signOut(message);
};

if (sessionStorage.getItem(TOKEN_KEY)) start().catch(() => {});
else showSignIn();

/* global sessionStorage */
// Data calls with the signed-in token, and the state the pages share.

export const TOKEN_KEY = 'halflife.token';

/** Shared state: the dashboard config and the chart instances (the browser tests read them). */
export const app = {
  config: null,
  /** @type {Record<string, any>} */
  charts: {},
  route: null,
  lastUpdate: 0,
  /** Called when the API refuses the token (set by app.js). */
  onUnauthorized: (_message) => {},
};
window.__halflife = app;

export class Unauthorized extends Error {}

/** GET a /v1 path with the signed-in token; a 401/403 signs out. */
export async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Unauthorized('not signed in');
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  if (res.status === 401 || res.status === 403) {
    const body = await res.json().catch(() => ({}));
    const message =
      res.status === 401 ? 'That token is not valid (401). Sign in again.' : `${body.message ?? 'Forbidden'} (403)`;
    app.onUnauthorized(message);
    throw new Unauthorized(message);
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body.message ?? `${path}: HTTP ${res.status}`);
  }
  return res.json();
}

import { existsSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DASHBOARDS_DIR, VENDOR_ASSETS, VENDOR_DIR, vendorAssets } from '../../dashboards/vendor.ts';
import type { RouteModule } from '../api.ts';

/**
 * The web dashboard's files, served by the daemon: `/` is the page, `/ui/<file>` its scripts
 * and styles (dashboards/web), `/ui/vendor/<file>` the vendored chart library
 * (dashboards/public/vendor, copied from node_modules). The files are public — they hold no
 * data; every data call the page makes is a `/v1` request with the signed-in token.
 * Paths are matched against a strict pattern and resolved inside their directory, so nothing
 * outside the two directories can be read.
 */

const WEB_DIR = path.join(DASHBOARDS_DIR, 'web');
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.LICENSE': 'text/plain; charset=utf-8',
};
/** Scripts and data from this origin only; uPlot positions its elements with inline styles. */
const CSP =
  "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A file inside `dir` named by `name`, or null when the name is not a plain file name in it. */
export function resolveInside(dir: string, name: string): string | null {
  if (!SAFE_NAME.test(name) || name.includes('..')) return null;
  const full = path.resolve(dir, name);
  return path.dirname(full) === path.resolve(dir) ? full : null;
}

export function dashboardStaticRoutes(options: { log?: { warn(obj: object, msg: string): void } } = {}): RouteModule {
  return (app) => {
    if (VENDOR_ASSETS.some((a) => !existsSync(path.join(VENDOR_DIR, a.as)))) {
      try {
        vendorAssets();
      } catch (err) {
        options.log?.warn(
          { err: (err as Error).message },
          'dashboard chart library could not be vendored (run npm run dashboards:vendor); charts will not draw',
        );
      }
    }

    const send = async (file: string | null, reply: FastifyReply) => {
      if (!file) return reply.code(404).send({ error: 'not-found', message: 'no such dashboard file' });
      try {
        const info = await stat(file);
        if (!info.isFile()) return reply.code(404).send({ error: 'not-found', message: 'no such dashboard file' });
      } catch {
        return reply.code(404).send({ error: 'not-found', message: 'no such dashboard file' });
      }
      const ext = file.endsWith('.LICENSE') ? '.LICENSE' : path.extname(file);
      return reply
        .header('content-type', TYPES[ext] ?? 'application/octet-stream')
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', CSP)
        .header('referrer-policy', 'no-referrer')
        .send(await readFile(file));
    };

    app.get('/', async (_request, reply) => send(path.join(WEB_DIR, 'index.html'), reply));
    app.get<{ Params: { name: string } }>('/ui/:name', async (request, reply) =>
      send(resolveInside(WEB_DIR, request.params.name), reply),
    );
    app.get<{ Params: { name: string } }>('/ui/vendor/:name', async (request, reply) =>
      send(resolveInside(VENDOR_DIR, request.params.name), reply),
    );
  };
}

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Crash points for the tests that prove a step survives its worker dying at the worst moment.
 * With HALFLIFE_CRASH_AT="train:after-artifact,promote:after-stage" and HALFLIFE_CRASH_MARKER_DIR
 * set, the process SIGKILLs itself the first time it reaches each named point (a marker file
 * makes it once per point, so the restarted worker gets through). Unset in production: then
 * `crashPoint` is a no-op.
 */
export function crashPoint(name: string): void {
  const points = process.env.HALFLIFE_CRASH_AT;
  const markers = process.env.HALFLIFE_CRASH_MARKER_DIR;
  if (!points || !markers || !points.split(',').includes(name)) return;
  const marker = path.join(markers, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
  if (existsSync(marker)) return;
  mkdirSync(markers, { recursive: true });
  writeFileSync(marker, `${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}

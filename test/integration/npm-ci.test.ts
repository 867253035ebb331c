import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../platform/paths.ts';

const run = promisify(execFile);

/**
 * `npm ci` — what setup runs and what a fresh clone's CI runs — accepts the committed lock: it
 * must list every dependency package.json implies, chdb's platform packages for other machines
 * included (`npm install` here drops those the registry does not serve, and `npm ci` then refuses
 * the lock). A dry run against the lock alone, offline: no download, only npm's own check.
 */
describe('package-lock.json', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-npm-ci-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is accepted by npm ci (in sync with package.json for every platform)', async () => {
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      copyFileSync(path.join(projectRoot, file), path.join(dir, file));
    const result = await run('npm', ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: { ...process.env, npm_config_loglevel: 'error' },
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in result ? result.code : 0, 'stderr' in result ? result.stderr : '').toBe(0);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orphanedBy, ownerFile, recordOwner } from '../../../local-services/process.ts';

describe('local services: who stops them', () => {
  const dirs: string[] = [];
  const pidFile = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-owner-'));
    dirs.push(dir);
    const file = path.join(dir, 'kafka.pid');
    writeFileSync(file, `${process.pid}\n`);
    return file;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a service left by a daemon that died (kill -9) is orphaned, and names that daemon', () => {
    const file = pidFile();
    const exited = spawnSync('true').pid as number; // a pid whose process has exited
    recordOwner(file, exited);
    expect(orphanedBy(file)).toBe(exited);
  });

  it('a service whose daemon still runs is not orphaned', () => {
    const file = pidFile();
    recordOwner(file, process.pid);
    expect(orphanedBy(file)).toBeUndefined();
  });

  it("a service started by `services up` (no owner) is nobody's to adopt", () => {
    const file = pidFile();
    expect(orphanedBy(file)).toBeUndefined();
    writeFileSync(ownerFile(file), 'not a pid\n');
    expect(orphanedBy(file)).toBeUndefined();
  });
});

import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';

describe('tempDir, the tests’ scratch directory', () => {
  let madeInTest = '';
  let madeInSuite = '';

  it('is a new directory in the OS temp dir, there while the test runs', () => {
    madeInTest = tempDir('halflife-temp-dir-test-');
    expect(path.dirname(madeInTest)).toBe(os.tmpdir());
    writeFileSync(path.join(madeInTest, 'file'), 'x');
    expect(existsSync(madeInTest)).toBe(true);
  });

  it('is removed, contents and all, when the test that made it finished', () => {
    expect(madeInTest).not.toBe('');
    expect(existsSync(madeInTest)).toBe(false);
  });

  describe('made while the file is collected', () => {
    madeInSuite = tempDir('halflife-temp-dir-suite-');
    writeFileSync(path.join(madeInSuite, 'file'), 'x');
    it('lasts across the suite’s tests', () => expect(existsSync(madeInSuite)).toBe(true));
    it('(still)', () => expect(existsSync(path.join(madeInSuite, 'file'))).toBe(true));
  });

  it('is removed when its suite is done', () => {
    expect(madeInSuite).not.toBe('');
    expect(existsSync(madeInSuite)).toBe(false);
  });
});

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactIntegrityError, LocalArtifactStore, sha256Hex } from '../../platform/registry/artifact-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function store() {
  const dir = tempDir('halflife-artifacts-');
  return { dir, store: new LocalArtifactStore(path.join(dir, 'artifacts')) };
}

describe('local artifact store', () => {
  it('round-trips bytes and verifies sha256 on read', async () => {
    const { store: s } = store();
    const bytes = new TextEncoder().encode('model bytes');
    const put = await s.put('models/churn/v1/model.onnx', bytes);
    expect(put.uri).toBe('local:models/churn/v1/model.onnx');
    expect(put.sha256).toBe(sha256Hex(bytes));
    expect(await s.get(put.uri, put.sha256)).toEqual(bytes);
    expect(await s.get(put.uri)).toEqual(bytes);
  });

  it('never returns a corrupted artifact: sha256 mismatch is an integrity error', async () => {
    const { store: s } = store();
    const put = await s.put('models/m/v1/model.onnx', new TextEncoder().encode('original'));
    writeFileSync(await s.localPath(put.uri), 'tampered');
    await expect(s.get(put.uri, put.sha256)).rejects.toThrow(ArtifactIntegrityError);
    await expect(s.get(put.uri)).rejects.toThrow(/failed its integrity check/);
    await expect(s.get(put.uri, 'f'.repeat(64))).rejects.toThrow(ArtifactIntegrityError);
  });

  it('refuses keys that escape the root: .., absolute paths, backslashes', async () => {
    const { store: s } = store();
    const bytes = new Uint8Array([1]);
    for (const key of ['../outside', 'models/../../x', '/etc/passwd', 'a/./b', 'a//b', 'a\\..\\b', '', 'local:../x']) {
      await expect(s.put(key, bytes)).rejects.toThrow(/refused|1–1024/);
    }
    await expect(s.get('local:../../etc/passwd')).rejects.toThrow(/refused/);
    await expect(s.get('file:///etc/passwd')).rejects.toThrow(/not a local artifact URI/);
  });

  it('refuses symlinks that lead outside the root, and symlinked files', async () => {
    const { dir, store: s } = store();
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'secret');
    mkdirSync(s.root, { recursive: true });
    symlinkSync(outside, path.join(s.root, 'escape'));
    await expect(s.put('escape/model.onnx', new Uint8Array([1]))).rejects.toThrow(/outside the artifact store/);
    await expect(s.get('local:escape/secret', sha256Hex('secret'))).rejects.toThrow(/outside the artifact store/);
    // A symlink pointing inside the root is still not served as an artifact.
    const put = await s.put('models/a.onnx', new Uint8Array([1, 2]));
    symlinkSync(await s.localPath(put.uri), path.join(s.root, 'models', 'alias.onnx'));
    await expect(s.get('local:models/alias.onnx', put.sha256)).rejects.toThrow(/symlink/);
  });
});

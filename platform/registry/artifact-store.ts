/**
 * Where model artifacts and training snapshots live. The default is a local directory
 * (`<dataDir>/artifacts`); the interface is what an object store (S3, GCS) would implement:
 * keys are relative, URIs are opaque strings the store hands out, and every read can verify
 * a sha256 so a corrupted or swapped file is never used.
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HalflifeError, ValidationError } from '../errors.ts';

export interface StoredArtifact {
  uri: string;
  sha256: string;
  size: number;
}

export interface ArtifactStore {
  /** Store bytes under a relative key (`models/churn/v3/model.onnx`); overwrites. */
  put(key: string, bytes: Uint8Array): Promise<StoredArtifact>;
  /** Replace the content of an existing artifact (a snapshot scrubbed by an erasure), recording its new sha256. */
  rewrite(uri: string, bytes: Uint8Array): Promise<StoredArtifact>;
  /**
   * Read an artifact, verifying its sha256 against `expectedSha256` (the registry's record)
   * or, when not given, against the digest recorded at `put`.
   */
  get(uri: string, expectedSha256?: string): Promise<Uint8Array>;
  /** A local file path with the artifact's content (an object store would download it first). */
  localPath(uri: string): Promise<string>;
  exists(uri: string): Promise<boolean>;
}

/** The bytes read do not have the expected digest: the artifact is corrupted or was replaced. */
export class ArtifactIntegrityError extends HalflifeError {
  constructor(
    readonly uri: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`artifact ${uri} failed its integrity check: sha256 is ${actual}, expected ${expected}; refusing to use it`);
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const URI_PREFIX = 'local:';
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._:=-]*$/;

/** Artifacts in a directory. URIs look like `local:models/churn/v3/model.onnx` (relative, so the directory can move). */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  #realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  static forDataDir(dataDir: string): LocalArtifactStore {
    return new LocalArtifactStore(path.join(dataDir, 'artifacts'));
  }

  uriFor(key: string): string {
    return URI_PREFIX + this.#checkKey(key).join('/');
  }

  /**
   * The path of a key inside the root. Refuses absolute paths, `..`, empty or odd segments,
   * and — for parts that exist — symlinks leading outside the root.
   */
  async resolve(keyOrUri: string): Promise<string> {
    const key = keyOrUri.startsWith(URI_PREFIX) ? keyOrUri.slice(URI_PREFIX.length) : keyOrUri;
    const segments = this.#checkKey(key);
    const realRoot = await this.#rootReal();
    const target = path.join(realRoot, ...segments);
    // Walk existing ancestors: any symlink must still resolve inside the root.
    let probe = target;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
          throw new ValidationError(
            `artifact key ${JSON.stringify(key)} resolves outside the artifact store (through a symlink): refused`,
          );
        }
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        const parent = path.dirname(probe);
        if (parent === probe) break;
        probe = parent;
      }
    }
    return target;
  }

  async put(key: string, bytes: Uint8Array): Promise<StoredArtifact> {
    const file = await this.resolve(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Re-check after creating directories (a racing symlink), then write atomically.
    await this.resolve(key);
    const existing = await lstat(file).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw new ValidationError(`artifact ${key} is a symlink: refused`);
    const digest = sha256Hex(bytes);
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
    await writeFile(`${file}.sha256`, `${digest}\n`);
    return { uri: this.uriFor(key), sha256: digest, size: bytes.length };
  }

  async rewrite(uri: string, bytes: Uint8Array): Promise<StoredArtifact> {
    await this.#existingFile(uri);
    return this.put(uri.slice(URI_PREFIX.length), bytes);
  }

  async get(uri: string, expectedSha256?: string): Promise<Uint8Array> {
    const file = await this.#existingFile(uri);
    const bytes = new Uint8Array(await readFile(file));
    const expected = expectedSha256 ?? (await readFile(`${file}.sha256`, 'utf8').catch(() => '')).trim();
    if (!expected) throw new ArtifactIntegrityError(uri, '(no recorded digest)', sha256Hex(bytes));
    const actual = sha256Hex(bytes);
    if (actual !== expected.toLowerCase()) throw new ArtifactIntegrityError(uri, expected, actual);
    return bytes;
  }

  async localPath(uri: string): Promise<string> {
    return this.#existingFile(uri);
  }

  async exists(uri: string): Promise<boolean> {
    try {
      await this.#existingFile(uri);
      return true;
    } catch {
      return false;
    }
  }

  /** Remove an artifact (used for failed, never-registered training output). */
  async remove(uri: string): Promise<void> {
    const file = await this.resolve(uri);
    await rm(file, { force: true });
    await rm(`${file}.sha256`, { force: true });
  }

  async #existingFile(uri: string): Promise<string> {
    if (!uri.startsWith(URI_PREFIX))
      throw new ValidationError(`not a local artifact URI: ${JSON.stringify(uri)} (expected ${URI_PREFIX}<key>)`);
    const file = await this.resolve(uri);
    const info = await lstat(file).catch(() => undefined);
    if (!info) throw new HalflifeError(`artifact ${uri} does not exist in ${this.root}`);
    if (info.isSymbolicLink()) {
      // resolve() already proved the target is inside the root; a symlinked file is still refused
      // so that what was hashed at put time is what is read.
      throw new ValidationError(`artifact ${uri} is a symlink: refused`);
    }
    return file;
  }

  #rootReal(): Promise<string> {
    this.#realRoot ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    return this.#realRoot;
  }

  #checkKey(key: string): string[] {
    if (key.length === 0 || key.length > 1024) throw new ValidationError('artifact key must be 1–1024 characters');
    if (path.isAbsolute(key) || key.startsWith('/') || key.includes('\\') || key.includes('\0')) {
      throw new ValidationError(
        `artifact key ${JSON.stringify(key)} must be a relative path inside the store: refused`,
      );
    }
    const segments = key.split('/');
    for (const s of segments) {
      if (s === '..' || s === '.' || !SEGMENT.test(s)) {
        throw new ValidationError(
          `artifact key ${JSON.stringify(key)} has a disallowed segment ${JSON.stringify(s)} (no '..', '.', or characters outside A-Z a-z 0-9 . _ : = -): refused`,
        );
      }
    }
    return segments;
  }
}

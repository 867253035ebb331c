import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HalflifeConfig } from './config.ts';
import { dataDirSecret } from './data-dir-secret.ts';
import { DependencyError, NotFoundError, ValidationError } from './errors.ts';

/** Roles in increasing power: a viewer reads, an operator acts on models, an admin does everything. */
export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface Identity {
  name: string;
  role: Role;
}

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/**
 * API tokens. The admin token comes from `api.token` or is generated once into
 * `<dataDir>/api-token` (mode 0600). Tokens are compared by their sha256 in constant time.
 */
export class TokenStore {
  readonly #tokens = new Map<string, Identity>();
  #file?: { path: string; mtimeMs: number; checkedAt: number; tokens: Map<string, Identity> };

  add(token: string, identity: Identity): void {
    this.#tokens.set(digest(token), identity);
  }

  /**
   * Also accept the tokens of a tokens file (`halflife tokens create|revoke` edit it). The file is
   * re-read when its mtime changes, checked at most once a second, so a revocation takes effect
   * within a second without restarting the daemon.
   */
  useFile(file: string): void {
    this.#file = { path: file, mtimeMs: -1, checkedAt: 0, tokens: new Map() };
  }

  /** The identity behind a bearer token, or undefined. */
  identify(token: string | undefined): Identity | undefined {
    if (!token) return undefined;
    const wanted = Buffer.from(digest(token), 'hex');
    for (const [known, identity] of this.#tokens) {
      if (timingSafeEqual(Buffer.from(known, 'hex'), wanted)) return identity;
    }
    for (const [known, identity] of this.#fileTokens()) {
      if (timingSafeEqual(Buffer.from(known, 'hex'), wanted)) return identity;
    }
    return undefined;
  }

  #fileTokens(): Map<string, Identity> {
    const f = this.#file;
    if (!f) return new Map();
    const now = Date.now();
    if (now - f.checkedAt < 1000) return f.tokens;
    f.checkedAt = now;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(f.path).mtimeMs;
    } catch {
      f.tokens = new Map();
      f.mtimeMs = 0;
      return f.tokens;
    }
    if (mtimeMs !== f.mtimeMs) {
      // A broken file means no file tokens (fail closed), never the previous set.
      f.tokens = new Map(
        readTokensFile(f.path)
          .tokens.filter((t) => !t.revokedAt)
          .map((t) => [t.sha256, { name: t.name, role: t.role }]),
      );
      f.mtimeMs = mtimeMs;
    }
    return f.tokens;
  }
}

/** One entry of `<dataDir>/tokens.json`: only the sha256 of the token is kept. */
export interface StoredToken {
  id: string;
  name: string;
  role: Role;
  sha256: string;
  createdAt: string;
  createdBy: string;
  /** Set by `halflife tokens revoke`; revoked entries stay listed for the record. */
  revokedAt?: string;
  revokedBy?: string;
}

export interface TokensFile {
  version: 1;
  tokens: StoredToken[];
}

export function tokensFile(config: Pick<HalflifeConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'tokens.json');
}

/** Read the tokens file; a missing file is empty, a malformed one is empty too (fail closed). */
export function readTokensFile(file: string): TokensFile {
  if (!existsSync(file)) return { version: 1, tokens: [] };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<TokensFile>;
    const tokens = Array.isArray(parsed.tokens) ? parsed.tokens : [];
    return {
      version: 1,
      tokens: tokens.filter(
        (t) => t && typeof t.sha256 === 'string' && typeof t.name === 'string' && isRole(String(t.role)),
      ),
    };
  } catch {
    return { version: 1, tokens: [] };
  }
}

function writeTokensFile(file: string, content: TokensFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename: the daemon never reads a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;

/** Create a named token with a role; the plain token is returned once and never stored. */
export function createToken(
  file: string,
  name: string,
  role: Role,
  createdBy: string,
): { token: string; entry: StoredToken } {
  if (!TOKEN_NAME.test(name))
    throw new ValidationError(
      `token name ${JSON.stringify(name)}: use 1–64 letters, digits and . _ @ : - (starting with a letter or digit)`,
    );
  if (!isRole(role)) throw new ValidationError(`role ${JSON.stringify(role)}: use viewer, operator or admin`);
  const content = readTokensFile(file);
  if (content.tokens.some((t) => t.name === name && !t.revokedAt))
    throw new ValidationError(`a token named ${name} exists: revoke it first or pick another name`);
  const token = `hl_${randomBytes(24).toString('base64url')}`;
  const entry: StoredToken = {
    id: randomBytes(6).toString('hex'),
    name,
    role,
    sha256: digest(token),
    createdAt: new Date().toISOString(),
    createdBy,
  };
  content.tokens.push(entry);
  writeTokensFile(file, content);
  return { token, entry };
}

/** Revoke every active token with this name or id; the entries stay, marked revoked. */
export function revokeToken(file: string, nameOrId: string, revokedBy: string): StoredToken[] {
  const content = readTokensFile(file);
  const now = new Date().toISOString();
  const revoked = content.tokens.filter((t) => !t.revokedAt && (t.name === nameOrId || t.id === nameOrId));
  if (revoked.length === 0)
    throw new NotFoundError(
      `no active token named or with id ${JSON.stringify(nameOrId)} (see \`halflife tokens list\`)`,
    );
  for (const t of revoked) Object.assign(t, { revokedAt: now, revokedBy });
  writeTokensFile(file, content);
  return revoked;
}

/** The admin token for this deployment: configured, or read from / generated into the data dir. */
export function adminToken(config: HalflifeConfig): { token: string; file?: string } {
  if (config.api.token) return { token: config.api.token };
  const file = path.join(config.dataDir, 'api-token');
  return { token: dataDirSecret(file, () => `hl_${randomBytes(24).toString('base64url')}`), file };
}

/**
 * The token a client on this machine (the CLI) sends to the local daemon: configured, or the
 * admin token the daemon generated into the data dir. Never generates one: that is the daemon's job.
 */
export function localApiToken(config: Pick<HalflifeConfig, 'api' | 'dataDir'>): string {
  if (config.api.token) return config.api.token;
  const file = path.join(config.dataDir, 'api-token');
  if (!existsSync(file))
    throw new DependencyError(`no API token: set HALFLIFE_API_TOKEN or start the daemon once to generate ${file}`);
  return readFileSync(file, 'utf8').trim();
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

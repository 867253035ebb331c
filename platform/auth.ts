import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HalflifeConfig } from './config.ts';

/** Roles in increasing power: a viewer reads, an operator acts on models, an admin does everything. */
export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface Identity {
  name: string;
  role: Role;
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

  add(token: string, identity: Identity): void {
    this.#tokens.set(digest(token), identity);
  }

  /** The identity behind a bearer token, or undefined. */
  identify(token: string | undefined): Identity | undefined {
    if (!token) return undefined;
    const wanted = Buffer.from(digest(token), 'hex');
    for (const [known, identity] of this.#tokens) {
      if (timingSafeEqual(Buffer.from(known, 'hex'), wanted)) return identity;
    }
    return undefined;
  }
}

/** The admin token for this deployment: configured, or read from / generated into the data dir. */
export function adminToken(config: HalflifeConfig): { token: string; file?: string } {
  if (config.api.token) return { token: config.api.token };
  const file = path.join(config.dataDir, 'api-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file };
  mkdirSync(config.dataDir, { recursive: true });
  const token = `hl_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file };
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

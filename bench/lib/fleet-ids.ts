/**
 * The fleet benchmark's model ids: `fleet-0000`, `fleet-0001`, … (sorted and short, the default),
 * or UUID v4s drawn from a seeded generator — ids the way many registries mint them, spread over
 * the whole key space instead of sharing a prefix, and the same ids again for the same seed.
 */
import { randomInt } from 'node:crypto';
import { Random } from '../../detectors/random.ts';

export const FLEET_ID_KINDS = ['sequential', 'random'] as const;
export type FleetIdKind = (typeof FLEET_ID_KINDS)[number];

export interface FleetIdOptions {
  /** How model ids look. @default 'sequential' */
  kind: FleetIdKind;
  /** Seed of the random ids (any integer 0 … 2³²−1); unused for sequential ids. @default drawn at random, and reported */
  seed: number;
}

/** Read `--ids` and `--seed` (their raw strings; undefined when not given). Throws naming the bad flag and what it takes. */
export function parseFleetIdOptions(ids: string | undefined, seed: string | undefined): FleetIdOptions {
  const kind = ids ?? 'sequential';
  if (!(FLEET_ID_KINDS as readonly string[]).includes(kind))
    throw new Error(`--ids ${kind}: use one of ${FLEET_ID_KINDS.join(', ')}`);
  if (seed === undefined) return { kind: kind as FleetIdKind, seed: randomInt(2 ** 32) };
  const parsed = Number(seed);
  if (!/^\d+$/.test(seed.trim()) || !Number.isSafeInteger(parsed) || parsed >= 2 ** 32)
    throw new Error(`--seed ${seed}: an integer from 0 to ${2 ** 32 - 1} (the generator keeps 32 bits)`);
  return { kind: kind as FleetIdKind, seed: parsed };
}

/** N distinct model ids. */
export function fleetModelIds(n: number, options: FleetIdOptions): string[] {
  if (options.kind === 'sequential') return Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
  const rng = new Random(options.seed);
  const ids = new Set<string>();
  // 122 random bits: a repeat is practically impossible, but the set makes "distinct" a guarantee.
  while (ids.size < n) ids.add(uuidV4(rng));
  return [...ids];
}

/** RFC 9562's version 4 layout: 16 random bytes, version nibble 4, variant bits 10. */
function uuidV4(rng: Random): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(rng.next() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether what is served agrees with what the registry asks for: pure, so the API, the CLI, the
 * dashboard, health and alerts all read one rule. Two witnesses are compared with the registry:
 *
 * - the scorers' own reports (platform/registry/serving-report.ts): every live scorer must route
 *   the production version (with the registry's sha256) and nothing but it and canary versions;
 * - the scoring events: a version the registry does not ask for that still scores events after
 *   the current request took effect (plus the confirmation timeout) is served by something —
 *   this also catches a serving that does not send reports.
 *
 * A change younger than the confirmation timeout is `pending`, not a disagreement.
 */
import type { ServedRouting } from './serving-report.ts';

export interface RequestedVersion {
  version: string;
  sha256: string;
}

/** What the registry asks to be served. */
export interface RequestedServing {
  /** The model has versions in the registry (if not, halflife asks for nothing and events are not judged). */
  registered: boolean;
  /** The production version; null when there is none (withdrawn, or nothing promoted yet). */
  production: RequestedVersion | null;
  /** Versions in canary: they may take a share of live traffic. */
  canary: RequestedVersion[];
  /** When the current request took effect (the newest stage change or published update, epoch ms). */
  since: number | null;
}

/** One scorer as its reports describe it. */
export interface ScorerServing {
  scorerId: string;
  host: string;
  pid: number;
  /** A report within three of its heartbeats, and not stopped. */
  live: boolean;
  /** Its last report of any kind (epoch ms, as stored). */
  lastSeenAt: number;
  heartbeatMs: number;
  /** Its routing of the model (null: it serves nothing for the model, or never said). */
  serving: ServedRouting | null;
  /** It has reported on this model at all. */
  reportedOnModel: boolean;
  /** Its newest refusal of an update of this model, when no update was applied after it. */
  refusal: { updateKey: string; version: string; reason: string; at: number } | null;
}

/** Versions that scored the model's events recently, from the events themselves. */
export interface ScoredVersion {
  version: string;
  events: number;
  /** Newest event time (epoch ms). */
  lastAt: number;
}

export type ServingAgreement = 'agrees' | 'disagrees' | 'pending' | 'no-live-scorer';

export interface ServingDisagreement {
  /** The scorer, or `events` when the scoring events are the witness. */
  source: string;
  reason: string;
}

export interface ServingComparison {
  agreement: ServingAgreement;
  disagreements: ServingDisagreement[];
}

const short = (sha: string) => sha.slice(0, 12);

/** The live versions a scorer routes, with their sha256. */
function liveRoutes(s: ServedRouting | null): Array<{ version: string; sha256: string }> {
  return (s?.routes ?? []).filter((r) => r.share > 0).map((r) => ({ version: r.version, sha256: r.sha256 }));
}

/** Why one scorer disagrees with the request, or null when it agrees. */
function scorerDisagreement(requested: RequestedServing, scorer: ScorerServing): string | null {
  const routes = liveRoutes(scorer.serving);
  const refused = scorer.refusal
    ? `; it refused update ${scorer.refusal.updateKey} (${scorer.refusal.version || 'withdrawal'}): ${scorer.refusal.reason}`
    : '';
  const served = routes.length === 0 ? 'nothing' : routes.map((r) => r.version).join(' + ');
  const { production } = requested;
  if (!production) {
    return routes.length === 0 ? null : `serves ${served} while the registry has no production version${refused}`;
  }
  const prod = routes.find((r) => r.version === production.version);
  if (!prod) return `serves ${served} while the registry's production version is ${production.version}${refused}`;
  if (prod.sha256 !== production.sha256)
    return `serves ${production.version} with sha256 ${short(prod.sha256)}…, the registry's is ${short(production.sha256)}…${refused}`;
  const allowed = new Map([production, ...requested.canary].map((v) => [v.version, v.sha256]));
  const extra = routes.filter((r) => allowed.get(r.version) !== r.sha256);
  if (extra.length > 0)
    return `also serves ${extra.map((r) => r.version).join(', ')}, which the registry does not ask for${refused}`;
  return null;
}

/**
 * Compare serving with the registry at `now`. `confirmTimeoutMs` is how long a change may take to
 * reach serving before a difference counts as disagreement.
 */
export function compareServing(
  requested: RequestedServing,
  scorers: readonly ScorerServing[],
  scored: readonly ScoredVersion[],
  now: number,
  confirmTimeoutMs: number,
): ServingComparison {
  const settledAt = requested.since === null ? null : requested.since + confirmTimeoutMs;
  const settled = settledAt === null || now >= settledAt;
  const disagreements: ServingDisagreement[] = [];
  let pending = false;
  const live = scorers.filter((s) => s.live);
  for (const scorer of live) {
    const reason = scorerDisagreement(requested, scorer);
    if (!reason) continue;
    // A refusal is an answer: no need to wait for the timeout to call it a disagreement.
    if (settled || scorer.refusal) disagreements.push({ source: scorer.scorerId, reason });
    else pending = true;
  }
  const asked = new Set([requested.production, ...requested.canary].flatMap((v) => (v ? [v.version] : [])));
  for (const v of requested.registered ? scored : []) {
    if (asked.has(v.version)) continue;
    if (settledAt !== null && v.lastAt <= settledAt) continue;
    disagreements.push({
      source: 'events',
      reason: `${v.events} event(s) scored by ${v.version} up to ${new Date(v.lastAt).toISOString()}, which the registry does not ask for (production: ${requested.production?.version ?? 'none'})`,
    });
  }
  const agreement: ServingAgreement =
    disagreements.length > 0 ? 'disagrees' : pending ? 'pending' : live.length === 0 ? 'no-live-scorer' : 'agrees';
  return { agreement, disagreements };
}

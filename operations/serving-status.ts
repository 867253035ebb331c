/**
 * What serves a model, next to what the registry asks for: the registry's production (and canary)
 * versions, each scorer's own report, the versions the scoring events were actually scored by in
 * the last minutes, and whether they agree (platform/registry/serving-agreement.ts). The API,
 * `halflife models list|show`, `monitor status` and the dashboard's Serving card read this; health
 * and alerts read {@link servingDisagreement}.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ServingReport } from '../detectors/alerts/types.ts';
import { ClickHouseRegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import {
  requestedSince,
  requestedSinceOf,
  scoredVersions,
  scoredVersionsOf,
  scorersServing,
  scorersServingOf,
  servingVersionsOf,
} from '../platform/clickhouse/serving-repository.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import {
  compareServing,
  type RequestedServing,
  type ScoredVersion,
  type ScorerServing,
  type ServingAgreement,
  type ServingDisagreement,
} from '../platform/registry/serving-agreement.ts';

/** How far back the scoring events are read to say which versions score now. */
export const SCORED_WINDOW_MS = 10 * 60_000;

export interface ServingStatus {
  modelId: string;
  /** What the registry asks for. */
  requested: RequestedServing;
  /** Scorers seen in the last day, each with its routing of this model (live ones are the ones judged). */
  scorers: ScorerServing[];
  /** Versions that scored this model's events in the last {@link SCORED_WINDOW_MS}, most events first. */
  scored: ScoredVersion[];
  /** The version most recent events were scored by (null: no events in the window). */
  scoredBy: string | null;
  agreement: ServingAgreement;
  disagreements: ServingDisagreement[];
  checkedAt: number;
}

export async function servingStatus(
  clickhouse: ClickHouseClient,
  config: Pick<HalflifeConfig, 'serving'>,
  modelId: string,
  now: number = Date.now(),
): Promise<ServingStatus> {
  const registry = new ClickHouseRegistryRepository(clickhouse);
  const [versions, since, scorers, scored] = await Promise.all([
    registry.listVersions(modelId),
    requestedSince(clickhouse, modelId),
    scorersServing(clickhouse, modelId),
    scoredVersions(clickhouse, modelId, now - SCORED_WINDOW_MS),
  ]);
  return statusOf(config, modelId, now, { versions, since, scorers, scored });
}

/**
 * {@link servingStatus} of many models read together: four queries whatever the number of models
 * (a monitor fleet reads serving with every window; one model's four queries each were most of
 * a tick's queries). Every model of `modelIds` gets its status, equal to its own servingStatus.
 */
export async function servingStatuses(
  clickhouse: ClickHouseClient,
  config: Pick<HalflifeConfig, 'serving'>,
  modelIds: readonly string[],
  now: number = Date.now(),
): Promise<Map<string, ServingStatus>> {
  const models = [...new Set(modelIds)];
  const [versions, since, scorers, scored] = await Promise.all([
    servingVersionsOf(clickhouse, models),
    requestedSinceOf(clickhouse, models),
    scorersServingOf(clickhouse, models),
    scoredVersionsOf(clickhouse, models, now - SCORED_WINDOW_MS),
  ]);
  return new Map(
    models.map((m) => [
      m,
      statusOf(config, m, now, {
        versions: versions.get(m) ?? [],
        since: since.get(m) ?? null,
        scorers: scorers.get(m) ?? [],
        scored: scored.get(m) ?? [],
      }),
    ]),
  );
}

/** A model's serving status from what was read of it (versions newest first). */
function statusOf(
  config: Pick<HalflifeConfig, 'serving'>,
  modelId: string,
  now: number,
  read: {
    versions: readonly { version: string; stage: string; sha256: string }[];
    since: number | null;
    scorers: ScorerServing[];
    scored: ScoredVersion[];
  },
): ServingStatus {
  const { versions, since, scorers, scored } = read;
  const production = versions.find((v) => v.stage === 'production');
  const requested: RequestedServing = {
    registered: versions.length > 0,
    production: production ? { version: production.version, sha256: production.sha256 } : null,
    canary: versions.filter((v) => v.stage === 'canary').map((v) => ({ version: v.version, sha256: v.sha256 })),
    since,
  };
  const comparison = compareServing(requested, scorers, scored, now, config.serving.confirmTimeoutMs);
  const scoredBy = [...scored].sort((a, b) => b.lastAt - a.lastAt || b.events - a.events)[0]?.version ?? null;
  return { modelId, requested, scorers, scored, scoredBy, ...comparison, checkedAt: now };
}

/**
 * Whether a model's serving disagrees with its registry (a live scorer serves another version, or
 * refused the current one; or events are still scored by a version the registry does not ask for),
 * with the reasons naming each scorer. `pending` (a change younger than the confirmation timeout)
 * and `no-live-scorer` are not disagreements.
 */
export async function servingDisagreement(
  clickhouse: ClickHouseClient,
  config: Pick<HalflifeConfig, 'serving'>,
  modelId: string,
): Promise<{ disagrees: boolean; reasons: string[] }> {
  const status = await servingStatus(clickhouse, config, modelId);
  return {
    disagrees: status.agreement === 'disagrees',
    reasons: status.disagreements.map((d) => `${d.source}: ${d.reason}`),
  };
}

/**
 * Serving as the alert rules and the health rule read it: whether it agrees, the version the
 * registry asks for, the versions live scorers route traffic to, and the reasons it disagrees.
 * `pending` and `no-live-scorer` agree (nothing contradicts the registry yet).
 */
export function servingAlertReport(status: ServingStatus): ServingReport {
  const served = status.scorers
    .filter((s) => s.live)
    .flatMap((s) => s.serving?.routes.filter((r) => r.share > 0).map((r) => r.version) ?? []);
  return {
    agrees: status.agreement !== 'disagrees',
    requested: status.requested.production?.version ?? null,
    serving: [...new Set(served)].sort(),
    reason:
      status.disagreements.map((d) => `${d.source}: ${d.reason}`).join('; ') ||
      (status.agreement === 'agrees' ? 'every live scorer serves what the registry asks for' : status.agreement),
    at: status.checkedAt,
  };
}

/** A one-line summary of serving for tables: what scores, and the disagreement if any. */
export function servingSummary(s: ServingStatus): string {
  const live = s.scorers.filter((x) => x.live);
  const served = [
    ...new Set(
      live.map(
        (x) =>
          x.serving?.routes
            .filter((r) => r.share > 0)
            .map((r) => r.version)
            .join('+') || 'nothing',
      ),
    ),
  ];
  const what =
    live.length === 0
      ? 'no live scorer'
      : `${served.join(' | ')} (${live.length} scorer${live.length === 1 ? '' : 's'})`;
  const events = s.scoredBy ? `; events by ${s.scoredBy}` : '';
  const flag =
    s.agreement === 'disagrees' ? ' — DISAGREES with the registry' : s.agreement === 'pending' ? ' — pending' : '';
  return `${what}${events}${flag}`;
}

/** Which scorers route a version (with its share), and how many recent events it scored. */
export function servedByOf(status: ServingStatus, version: string) {
  return {
    scorers: status.scorers.flatMap((s) => {
      const route = s.serving?.routes.find((r) => r.version === version && r.share > 0);
      const shadow = s.serving?.shadow.includes(version) ?? false;
      return route || shadow ? [{ scorerId: s.scorerId, live: s.live, share: route?.share ?? 0, shadow }] : [];
    }),
    recentEvents: status.scored.find((x) => x.version === version)?.events ?? 0,
    agreement: status.agreement,
    disagreements: status.disagreements,
  };
}

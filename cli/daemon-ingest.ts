import type { IngestObservation } from '../detectors/monitor/health.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { apiBase } from './store-access.ts';

/**
 * Ingest as the daemon sees it, from its /readyz (open, no token): what `monitor status` adds to
 * each model's health. null when no daemon answers (ingest may run in another process: not observed).
 */
export async function daemonIngest(config: HalflifeConfig): Promise<IngestObservation | null> {
  try {
    const response = await fetch(`${apiBase(config)}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as {
      checks?: { ingest?: { ok?: unknown; detail?: unknown; lagSeconds?: unknown } };
    };
    const ingest = body.checks?.ingest;
    if (!ingest || typeof ingest.ok !== 'boolean') return null;
    return {
      stalled: !ingest.ok,
      lagSeconds: typeof ingest.lagSeconds === 'number' ? ingest.lagSeconds : null,
      ...(typeof ingest.detail === 'string' ? { detail: ingest.detail } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * What the retrain activities share: their dependencies (built once by createRetrainActivities)
 * and small helpers for heart-beating and for failing in a way the workflow can act on.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PromotionContext } from '../operations/promotion-context.ts';
import type { ClickHouseLineageRepository } from '../platform/clickhouse/lineage-repository.ts';
import type { OnnxPool } from '../platform/onnx/pool.ts';
import type { ArtifactStore } from '../platform/registry/artifact-store.ts';

export interface RetrainContext extends PromotionContext {
  artifacts: ArtifactStore;
  lineage: ClickHouseLineageRepository;
  /** ONNX runner threads, started on first use. */
  pool(): OnnxPool;
}

/**
 * Heartbeat when running inside a Temporal activity; a no-op when called directly (tests, CLI,
 * backtest), so the same functions serve both.
 */
export function heartbeat(details?: unknown): void {
  const ctx = asyncLocalStorage.getStore();
  if (ctx) ctx.heartbeat(details);
}

/** Bad input: retrying cannot help. The workflow turns it into a rejected decision. */
export function nonRetryable(type: string, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : [] });
}

/** A failure that may pass on retry (a dependency was down, a process was killed). */
export function retryable(
  type: string,
  message: string,
  details?: Record<string, unknown>,
  cause?: Error,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: false,
    details: details ? [details] : [],
    ...(cause ? { cause } : {}),
  });
}

export const ms = (iso: string | number): number => (typeof iso === 'number' ? iso : Date.parse(iso));

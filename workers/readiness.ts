/**
 * The daemon's readiness checks (GET /readyz), one per dependency. Each asks the dependency
 * itself rather than trusting a client's state (a Temporal worker stays RUNNING and a Kafka
 * consumer keeps retrying through an outage), within a short deadline, and says what is wrong.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import type { ClickHouse } from '../platform/clickhouse/client.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { kafkaBrokers } from '../platform/kafka.ts';
import { temporalAddress } from '../platform/temporal.ts';
import type { ReadinessCheck } from './api.ts';
import { ingestObservation, type IngestMetrics } from './ingest/metrics.ts';

/** How long one dependency may take to answer a readiness check (ms). */
export const READINESS_DEADLINE_MS = 2000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The brokers answer a metadata request (a fresh connection each time: no client state to trust). */
export function kafkaReadiness(config: HalflifeConfig): ReadinessCheck {
  const brokers = kafkaBrokers(config);
  const kafka = new Kafka({
    clientId: `${config.kafka.clientId}-readiness`,
    brokers,
    connectionTimeout: READINESS_DEADLINE_MS / 2,
    requestTimeout: READINESS_DEADLINE_MS,
    retry: { retries: 0 },
    // A failing probe is the answer, not a log line every few seconds.
    logLevel: logLevel.NOTHING,
  });
  return async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) return { ok: false, detail: `Kafka at ${brokers.join(',')}: no broker alive` };
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: `Kafka at ${brokers.join(',')} is unreachable: ${message(err)}` };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}

/** The Temporal frontend answers, and the worker polls. */
export function temporalReadiness(
  config: HalflifeConfig,
  connection: NativeConnection,
  worker: Worker,
): ReadinessCheck {
  return async () => {
    const state = worker.getState();
    if (state !== 'RUNNING') return { ok: false, detail: `the Temporal worker is ${state}` };
    try {
      await connection.withDeadline(Date.now() + READINESS_DEADLINE_MS, () =>
        connection.workflowService.getSystemInfo({}),
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: `Temporal at ${temporalAddress(config)} is unreachable: ${message(err)}` };
    }
  };
}

/** ClickHouse answers a ping (the embedded engine always does while the daemon runs). */
export function clickhouseReadiness(clickhouse: ClickHouse, config: HalflifeConfig): ReadinessCheck {
  const where = clickhouse.kind === 'embedded' ? `embedded chDB in ${config.clickhouse.path}` : config.clickhouse.url;
  return async () => {
    const ping = await clickhouse.client.ping();
    if (ping.success) return { ok: true };
    return { ok: false, detail: `ClickHouse (${where}) is unreachable: ${message(ping.error)}` };
  };
}

/** Ingest consumes: not paused by failing ClickHouse writes, not stalled on Kafka. */
export function ingestReadiness(ingest: { metrics: IngestMetrics }): ReadinessCheck {
  return async () => {
    const observed = ingestObservation(ingest.metrics);
    // The lag rides along: `halflife monitor status` adds it to each model's health.
    return observed.stalled
      ? { ok: false, detail: observed.detail, lagSeconds: observed.lagSeconds }
      : { ok: true, lagSeconds: observed.lagSeconds };
  };
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local-services/process.ts';
import { freeTemporalPort } from '../../local-services/temporal.ts';
import { loadConfig } from '../../platform/config.ts';
import { runDaemon, type Daemon } from '../../workers/daemon.ts';
import { waitUntil } from '../helpers/kafka.ts';

/**
 * /readyz during real outages. The daemon runs its own Temporal dev server and Kafka broker (not
 * the suite's shared ones), and the test freezes each with SIGSTOP — a host that accepts
 * connections and never answers, the way a partitioned or hung broker looks — then thaws it.
 */
interface Readiness {
  status: string;
  failing?: string[];
  checks: Record<string, { ok: boolean; detail?: string }>;
}

describe('readiness through Kafka and Temporal outages', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-readiness-'));
  let daemon: Daemon;
  let kafkaPort: number;
  let temporalPort: number;
  const frozen = new Set<number>();

  const pidOf = (service: 'kafka' | 'temporal') =>
    Number(readFileSync(path.join(dataDir, 'run', `${service}.pid`), 'utf8').trim());
  const freeze = (service: 'kafka' | 'temporal') => {
    const pid = pidOf(service);
    process.kill(-pid, 'SIGSTOP');
    frozen.add(pid);
  };
  const thaw = (service: 'kafka' | 'temporal') => {
    const pid = pidOf(service);
    process.kill(-pid, 'SIGCONT');
    frozen.delete(pid);
  };
  const readyz = async (): Promise<{ code: number; body: Readiness }> => {
    const response = await fetch(`${daemon.apiUrl}/readyz`);
    return { code: response.status, body: (await response.json()) as Readiness };
  };
  /**
   * Polls /readyz until `wanted` holds, keeping the last reading for the failure message. A
   * dependency that just came back from a freeze may miss one probe (a thawed KRaft broker can be
   * fenced for a moment; on a loaded host a probe can miss its deadline), so each test waits for a
   * reading that shows the outage it caused, attributed to that dependency alone.
   */
  const readyzUntil = async (
    what: string,
    wanted: (code: number, body: Readiness) => boolean,
    timeoutMs: number,
  ): Promise<Readiness> => {
    let seen: Readiness | undefined;
    try {
      await waitUntil(
        what,
        async () => {
          const { code, body } = await readyz();
          seen = body;
          return wanted(code, body);
        },
        timeoutMs,
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last /readyz: ${JSON.stringify(seen)}`, { cause: err });
    }
    return seen!;
  };
  const gauge = async (name: string): Promise<number> => {
    const text = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1]);
  };

  beforeAll(async () => {
    kafkaPort = await freePort();
    temporalPort = await freeTemporalPort();
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        services: {
          temporalPort,
          temporalUiPort: await freePort(),
          kafkaPort,
          kafkaControllerPort: await freePort(),
          kafkaHeap: '384m',
        },
        api: { port: await freePort(), token: 'readiness-admin-token-0123456789' },
        demo: { enabled: false },
        logLevel: 'warn',
      },
    });
    daemon = await runDaemon({ handleSignals: false, config });
  });

  afterAll(async () => {
    for (const pid of frozen) process.kill(-pid, 'SIGCONT');
    await daemon?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is ready with every dependency answering', async () => {
    await waitUntil('the daemon to be ready', async () => (await readyz()).code === 200, 60_000, 250);
    const { body } = await readyz();
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['clickhouse', 'ingest', 'kafka', 'temporal']);
    expect(await gauge('halflife_ingest_paused')).toBe(0);
  });

  it('is not ready, naming Kafka, while the broker does not answer; ingest says it is stalled; ready again after', async () => {
    freeze('kafka');
    const seen = await readyzUntil(
      '/readyz to name Kafka and ingest as failing, and Temporal as answering',
      (code, body) =>
        code === 503 &&
        !!body.failing?.includes('kafka') &&
        !!body.failing?.includes('ingest') &&
        body.checks.temporal?.ok === true,
      60_000,
    );
    expect(seen.status).toBe('not-ready');
    expect(seen.checks.kafka!.detail).toContain(`Kafka at 127.0.0.1:${kafkaPort} is unreachable`);
    expect(seen.checks.ingest!.detail).toContain('no answer from Kafka');
    expect(seen.failing).not.toContain('temporal');
    expect(await gauge('halflife_ingest_paused')).toBe(1);
    expect(await gauge('halflife_ingest_kafka_stalled')).toBe(1);

    thaw('kafka');
    await waitUntil(
      '/readyz to be ready after Kafka answers again',
      async () => (await readyz()).code === 200,
      120_000,
      500,
    );
    expect(await gauge('halflife_ingest_paused')).toBe(0);
  });

  it('is not ready, naming Temporal, while the Temporal server does not answer; ready again after', async () => {
    freeze('temporal');
    const seen = await readyzUntil(
      '/readyz to name Temporal as failing, and Kafka as answering',
      (code, body) => code === 503 && !!body.failing?.includes('temporal') && body.checks.kafka?.ok === true,
      60_000,
    );
    expect(seen.status).toBe('not-ready');
    expect(seen.checks.temporal!.detail).toContain(`Temporal at 127.0.0.1:${temporalPort} is unreachable`);
    expect(seen.failing).not.toContain('kafka');
    thaw('temporal');
    await waitUntil(
      '/readyz to be ready after Temporal answers again',
      async () => (await readyz()).code === 200,
      60_000,
      500,
    );
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AlertNotification } from '../../detectors/alerts/types.ts';
import { freePort } from '../../local-services/process.ts';
import { recordAlertDelivery, recordAlertNotification } from '../../platform/clickhouse/alerts-repository.ts';
import { openClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const run = promisify(execFile);

describe('halflife alerts (CLI, straight from the database when no daemon runs)', () => {
  it('lists messages with their delivery, filters firing ones, shows one with its attempts, exits 5 for an unknown id', async () => {
    const config = testConfig();
    const modelId = uniqueName('cli-alerts');
    const startsAt = Date.UTC(2026, 5, 1, 12);
    const episodeId = `halflife-alert/${modelId}/drift/${startsAt}`;
    const firing: AlertNotification = {
      notificationId: `${episodeId}/1`,
      sequence: 1,
      type: 'firing',
      alert: {
        key: `${modelId}/drift`,
        episodeId,
        modelId,
        modelVersion: 'v3',
        rule: 'drift',
        kind: 'drift',
        severity: 'warning',
        subject: null,
        summary: `${modelId}: input drift: x1`,
        description: `${modelId}: 2 window(s) in a row drifted.`,
        details: { features: ['x1'] },
        startsAt,
        receivers: ['webhook'],
      },
      resolvedAt: null,
      resolution: null,
      notifiedAt: startsAt,
      source: {
        workflowId: `halflife-monitor-${modelId}`,
        runId: 'r1',
        policy: { name: 'p', version: '2', hash: 'a'.repeat(64) },
      },
    };
    const ch = await openClickHouse(config);
    try {
      await applyMigrations(ch.client);
      await recordAlertNotification(ch.client, firing);
      for (const [attempt, outcome, status] of [
        [1, 'failed', 503],
        [2, 'delivered', 200],
      ] as const)
        await recordAlertDelivery(ch.client, {
          notificationId: firing.notificationId,
          episodeId,
          alertKey: firing.alert.key,
          modelId,
          receiver: 'webhook',
          format: 'json',
          send: 'notify',
          attempt,
          attemptedAt: startsAt + attempt * 1000,
          outcome,
          httpStatus: status,
          error: outcome === 'failed' ? 'HTTP 503: busy' : null,
          durationMs: 5,
          payloadDigest: 'b'.repeat(64),
        });
    } finally {
      await ch.close();
    }

    const env: Record<string, string | undefined> = {
      ...process.env,
      HALFLIFE_DATA_DIR: config.dataDir,
      HALFLIFE_API_PORT: String(await freePort()),
      HALFLIFE_LOG_LEVEL: 'warn',
    };
    delete env.HALFLIFE_CONFIG;
    const cli = (...args: string[]) => run('npx', ['tsx', 'cli/main.ts', ...args], { env, cwd: process.cwd() });

    const listed = JSON.parse((await cli('alerts', '--model', modelId, '--json')).stdout) as {
      notificationId: string;
      firing: boolean;
      deliveries: { receiver: string; attempts: number; delivered: boolean }[];
    }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ notificationId: firing.notificationId, firing: true });
    expect(listed[0]!.deliveries).toEqual([
      expect.objectContaining({ receiver: 'webhook', attempts: 2, delivered: true }),
    ]);
    const text = (await cli('alerts', '--firing', '--model', modelId)).stdout;
    expect(text).toContain('firing (open)');
    expect(text).toContain('webhook: delivered (2)');
    const shown = (await cli('alerts', 'show', firing.notificationId)).stdout;
    expect(shown).toContain(`FIRING ${modelId}: input drift: x1`);
    expect(shown).toMatch(/webhook\s+json\s+notify\s+1\s+failed\s+503/);
    expect(shown).toMatch(/webhook\s+json\s+notify\s+2\s+delivered\s+200/);
    const missing = await cli('alerts', 'show', 'no-such-alert').catch((e: { code: number; stderr: string }) => e);
    expect((missing as { code: number }).code).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { servingAlertReport, type ServingStatus } from '../../../operations/serving-status.ts';
import type { ScorerServing } from '../../../platform/registry/serving-agreement.ts';

const T0 = Date.UTC(2026, 0, 1);

function scorer(id: string, live: boolean, routes: { version: string; share: number }[]): ScorerServing {
  return {
    scorerId: id,
    host: 'h',
    pid: 1,
    live,
    lastSeenAt: T0,
    heartbeatMs: 1000,
    serving: {
      version: routes[0]?.version ?? '',
      sha256: '',
      since: T0,
      update_key: 'k',
      routes: routes.map((r) => ({ ...r, sha256: 'a'.repeat(64) })),
      shadow: [],
    },
    reportedOnModel: true,
    refusal: null,
  };
}

function status(partial: Partial<ServingStatus>): ServingStatus {
  return {
    modelId: 'm',
    requested: { registered: true, production: { version: 'v1', sha256: 'a' }, canary: [], since: T0 },
    scorers: [],
    scored: [],
    scoredBy: null,
    agreement: 'agrees',
    disagreements: [],
    checkedAt: T0,
    ...partial,
  };
}

describe('servingAlertReport: serving as the alert and health rules read it', () => {
  it('a disagreement names what the registry asks for, what live scorers route traffic to, and each reason', () => {
    const report = servingAlertReport(
      status({
        agreement: 'disagrees',
        scorers: [
          scorer('s1', true, [{ version: 'v2', share: 1 }]),
          scorer('s2', true, [
            { version: 'v1', share: 0.9 },
            { version: 'v3', share: 0.1 },
          ]),
          // A scorer that stopped reporting is not counted as serving.
          scorer('s3', false, [{ version: 'v0', share: 1 }]),
          scorer('s4', true, [{ version: 'v5', share: 0 }]),
        ],
        disagreements: [
          { source: 's1', reason: "serves v2 while the registry's production version is v1" },
          { source: 'events', reason: 'events are scored by v2' },
        ],
      }),
    );
    expect(report).toEqual({
      agrees: false,
      requested: 'v1',
      serving: ['v1', 'v2', 'v3'],
      reason: "s1: serves v2 while the registry's production version is v1; events: events are scored by v2",
      at: T0,
    });
  });

  it('pending and no live scorer are not disagreements', () => {
    expect(servingAlertReport(status({ agreement: 'pending' }))).toMatchObject({ agrees: true, reason: 'pending' });
    expect(
      servingAlertReport(
        status({
          agreement: 'no-live-scorer',
          requested: { registered: false, production: null, canary: [], since: null },
        }),
      ),
    ).toMatchObject({
      agrees: true,
      requested: null,
      serving: [],
      reason: 'no-live-scorer',
    });
    expect(servingAlertReport(status({ scorers: [scorer('s1', true, [{ version: 'v1', share: 1 }])] }))).toMatchObject({
      agrees: true,
      serving: ['v1'],
      reason: 'every live scorer serves what the registry asks for',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { modelUpdateSchema, isWithdrawal } from '../../../platform/registry/model-update.ts';
import {
  compareServing,
  type RequestedServing,
  type ScorerServing,
} from '../../../platform/registry/serving-agreement.ts';
import { servingReportSchema } from '../../../platform/registry/serving-report.ts';

const SHA = (c: string) => c.repeat(64);
const NOW = 1_800_000_000_000;
const TIMEOUT = 30_000;

const requested = (over: Partial<RequestedServing> = {}): RequestedServing => ({
  registered: true,
  production: { version: 'v3', sha256: SHA('3') },
  canary: [],
  since: NOW - 60_000,
  ...over,
});

const scorer = (routes: Array<[string, number, string]>, over: Partial<ScorerServing> = {}): ScorerServing => ({
  scorerId: 'scorer-a',
  host: 'h',
  pid: 1,
  live: true,
  lastSeenAt: NOW - 1000,
  heartbeatMs: 10_000,
  reportedOnModel: true,
  serving: {
    version: routes[0]?.[0] ?? '',
    sha256: routes[0]?.[2] ?? '',
    since: NOW - 50_000,
    update_key: 'k',
    routes: routes.map(([version, share, sha256]) => ({ version, share, sha256 })),
    shadow: [],
  },
  refusal: null,
  ...over,
});

describe('serving agreement: what is served against what the registry asks for', () => {
  it('agrees when every live scorer routes the production version with its sha256', () => {
    expect(compareServing(requested(), [scorer([['v3', 1, SHA('3')]])], [], NOW, TIMEOUT)).toEqual({
      agreement: 'agrees',
      disagreements: [],
    });
  });

  it('names the scorer that serves another version, and the update it refused with its reason', () => {
    const s = scorer([['v4', 1, SHA('4')]], {
      refusal: { updateKey: 'api-1/rollback/v4', version: 'v3', reason: 'artifact failed its sha256 check', at: NOW },
    });
    const result = compareServing(requested(), [s], [], NOW, TIMEOUT);
    expect(result.agreement).toBe('disagrees');
    expect(result.disagreements).toEqual([
      {
        source: 'scorer-a',
        reason: expect.stringMatching(
          /serves v4 while the registry's production version is v3; it refused update api-1\/rollback\/v4 \(v3\): artifact failed its sha256 check/,
        ),
      },
    ]);
  });

  it('is pending, not disagreeing, while a change is younger than the confirmation timeout; a refusal is an answer at once', () => {
    const young = requested({ since: NOW - 5000 });
    expect(compareServing(young, [scorer([['v2', 1, SHA('2')]])], [], NOW, TIMEOUT).agreement).toBe('pending');
    const refused = scorer([['v2', 1, SHA('2')]], {
      refusal: { updateKey: 'k2', version: 'v3', reason: 'no', at: NOW },
    });
    expect(compareServing(young, [refused], [], NOW, TIMEOUT).agreement).toBe('disagrees');
  });

  it('flags a sha256 that differs from the registry, and versions the registry does not ask for', () => {
    expect(
      compareServing(requested(), [scorer([['v3', 1, SHA('9')]])], [], NOW, TIMEOUT).disagreements[0]?.reason,
    ).toMatch(/sha256 999999999999…, the registry's is 333333333333…/);
    const canary = scorer([
      ['v3', 0.5, SHA('3')],
      ['v5', 0.5, SHA('5')],
    ]);
    expect(compareServing(requested(), [canary], [], NOW, TIMEOUT).disagreements[0]?.reason).toMatch(/also serves v5/);
    expect(
      compareServing(requested({ canary: [{ version: 'v5', sha256: SHA('5') }] }), [canary], [], NOW, TIMEOUT)
        .agreement,
    ).toBe('agrees');
  });

  it('with no production version (withdrawn), only serving nothing agrees', () => {
    const none = requested({ production: null });
    expect(compareServing(none, [scorer([])], [], NOW, TIMEOUT).agreement).toBe('agrees');
    expect(compareServing(none, [scorer([['v3', 1, SHA('3')]])], [], NOW, TIMEOUT).disagreements[0]?.reason).toMatch(
      /serves v3 while the registry has no production version/,
    );
  });

  it('judges live scorers only, and says when none reports', () => {
    const dead = scorer([['v1', 1, SHA('1')]], { live: false });
    expect(compareServing(requested(), [dead], [], NOW, TIMEOUT).agreement).toBe('no-live-scorer');
  });

  it('takes the scoring events as a witness: a version not asked for that scores after the change settled disagrees', () => {
    const scored = [
      { version: 'v3', events: 900, lastAt: NOW - 1000 },
      { version: 'v1', events: 40, lastAt: NOW - 2000 },
    ];
    const result = compareServing(requested(), [], scored, NOW, TIMEOUT);
    expect(result.agreement).toBe('disagrees');
    expect(result.disagreements).toEqual([
      { source: 'events', reason: expect.stringMatching(/40 event\(s\) scored by v1 .*\(production: v3\)/) },
    ]);
    // Events from before the change settled are history, not disagreement.
    const old = [{ version: 'v1', events: 40, lastAt: NOW - 60_000 + TIMEOUT - 1 }];
    expect(compareServing(requested(), [], old, NOW, TIMEOUT).agreement).toBe('no-live-scorer');
    // A model halflife has no versions of asks for nothing: its events are not judged.
    expect(compareServing(requested({ registered: false, production: null }), [], scored, NOW, TIMEOUT).agreement).toBe(
      'no-live-scorer',
    );
  });
});

describe('serving-report and model-update contracts', () => {
  const report = {
    type: 'serving-report',
    schema_version: 1,
    scorer_id: 'scorer-host-1-abc',
    seq: 3,
    event: 'refused',
    model_id: 'churn',
    serving: null,
    update: { key: 'api-1/promote', version: 'v4', sha256: SHA('4') },
    reason: 'artifact failed its integrity check',
    heartbeat_ms: 10_000,
    host: 'host',
    pid: 1,
    reported_at: NOW,
  };

  it('accepts a refusal that names its update, and refuses one that does not', () => {
    expect(servingReportSchema.safeParse(report).success).toBe(true);
    const missing = servingReportSchema.safeParse({ ...report, update: null });
    expect(missing.success).toBe(false);
    expect(missing.error?.issues[0]?.message).toMatch(/applied and refused reports name their update/);
  });

  it('keeps scorer-level reports about the scorer and model reports about a model', () => {
    expect(servingReportSchema.safeParse({ ...report, event: 'heartbeat', update: null, model_id: '' }).success).toBe(
      true,
    );
    expect(servingReportSchema.safeParse({ ...report, event: 'heartbeat', update: null }).success).toBe(false);
    expect(servingReportSchema.safeParse({ ...report, event: 'serving', update: null, model_id: '' }).success).toBe(
      false,
    );
  });

  it('a model update with no traffic at all is a withdrawal; a partial split is still refused', () => {
    const base = {
      type: 'model-update',
      schema_version: 1,
      model_id: 'churn',
      version: 'v3',
      shadow: [],
      models: {},
      reason: 'gdpr',
      idempotency_key: 'gdpr-1/withdraw',
      published_at: NOW,
    };
    const withdrawal = modelUpdateSchema.parse({ ...base, traffic_split: {} });
    expect(isWithdrawal(withdrawal)).toBe(true);
    expect(
      modelUpdateSchema.safeParse({
        ...base,
        traffic_split: { v3: 0.5 },
        models: { v3: { artifact_uri: 'local:x', sha256: SHA('3'), features: { numeric: [], categorical: [] } } },
      }).success,
    ).toBe(false);
  });
});

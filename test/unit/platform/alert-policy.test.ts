import { describe, expect, it } from 'vitest';
import { ALERT_RULE_KINDS } from '../../../detectors/alerts/types.ts';
import { parsePolicy, policyJsonSchemaText, safeParsePolicy } from '../../../platform/policy-file.ts';

const BASE = { name: 'p', version: 1, model: 'fraud', trigger: { valuePerQualityUnit: 0.02, retrainCost: 100 } };
const SLACK = { name: 'oncall', format: 'slack', url: { env: 'ONCALL_SLACK_URL' } };

function messages(alerts: unknown): string[] {
  const r = safeParsePolicy({ ...BASE, alerts });
  if (r.ok) throw new Error('expected the policy to be invalid');
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('the alerts section of a retrain policy', () => {
  it('is optional, and a policy without it keeps its hash (recorded decisions still name it)', () => {
    const without = parsePolicy(BASE);
    expect(without.policy.alerts).toBeUndefined();
    expect(Object.keys(without.policy)).not.toContain('alerts');
    const withAlerts = parsePolicy({ ...BASE, alerts: { rules: [{ kind: 'drift' }] } });
    expect(withAlerts.ref.hash).not.toBe(without.ref.hash);
  });

  it('applies defaults: receivers none, retry with back-off, a receiver timeout and an Alertmanager resend interval', () => {
    const { policy } = parsePolicy({
      ...BASE,
      alerts: { receivers: [{ ...SLACK, format: 'alertmanager' }], rules: [{ kind: 'promotion-failed' }] },
    });
    expect(policy.alerts).toEqual({
      receivers: [
        { name: 'oncall', format: 'alertmanager', url: { env: 'ONCALL_SLACK_URL' }, timeout: '10s', resendEvery: '5m' },
      ],
      rules: [{ kind: 'promotion-failed', name: 'promotion-failed', severity: 'critical' }],
      retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '10m', giveUpAfter: '24h' },
    });
  });

  it('refuses a URL or secret written into the policy, and names the way to give it', () => {
    expect(
      messages({ receivers: [{ ...SLACK, url: 'https://hooks.example/T0/B0/secret' }], rules: [{ kind: 'drift' }] }),
    ).toEqual([
      'policy.alerts.receivers.0.url: expected { env: VARIABLE_NAME }: receiver URLs, tokens and signing keys come from the environment, never from the policy',
    ]);
    expect(
      messages({ receivers: [{ ...SLACK, signingKey: { env: 'HALFLIFE_KEY' } }], rules: [{ kind: 'drift' }] })[0],
    ).toMatch(/^policy\.alerts\.receivers\.0\.signingKey\.env: HALFLIFE_\* variables are halflife settings/);
    expect(messages({ receivers: [{ ...SLACK, token: { env: 'not a name' } }], rules: [{ kind: 'drift' }] })[0]).toBe(
      'policy.alerts.receivers.0.token.env: an environment variable name: letters, digits and _, e.g. ONCALL_SLACK_URL',
    );
  });

  it('names unknown kinds, formats and fields, with the near miss', () => {
    expect(messages({ rules: [{ kind: 'drfit' }] })[0]).toContain('expected rule kind to be one of "health"');
    expect(messages({ receivers: [{ ...SLACK, format: 'teams' }], rules: [{ kind: 'drift' }] })).toEqual([
      'policy.alerts.receivers.0.format: expected format "json", "slack", "alertmanager"',
    ]);
    expect(messages({ rules: [{ kind: 'drift', consecutive: 2 }] })).toEqual([
      'policy.alerts.rules.0: unknown field "consecutive" (did you mean "consecutiveWindows"?); allowed fields: kind, name, severity, receivers, consecutiveWindows, share',
    ]);
    expect(messages({ rules: [] })).toEqual(['policy.alerts.rules: add at least one rule, e.g. { kind: drift }']);
  });

  it('checks names: receivers declared once, rules named apart, rules naming declared receivers', () => {
    expect(
      messages({
        receivers: [SLACK, SLACK],
        rules: [{ kind: 'drift' }, { kind: 'drift' }, { kind: 'health', receivers: ['pager'] }],
      }),
    ).toEqual([
      'policy.alerts.receivers.1.name: receiver "oncall" is declared twice',
      'policy.alerts.rules.1.name: two rules are named "drift": give each rule of the same kind its own name',
      'policy.alerts.rules.2.receivers.0: no receiver "pager" is declared; declared: oncall',
    ]);
  });

  it('publishes every rule kind and format in the JSON Schema', () => {
    const text = policyJsonSchemaText();
    for (const kind of ALERT_RULE_KINDS) expect(text).toContain(`"${kind}"`);
    for (const format of ['json', 'slack', 'alertmanager']) expect(text).toContain(`"${format}"`);
  });
});

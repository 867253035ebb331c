import { z } from 'zod';
import {
  ALERT_FORMATS,
  ALERT_RULE_KINDS,
  ALERTABLE_HEALTH,
  DEFAULT_ALERT_RETRY,
  DEFAULT_SEVERITY,
  type AlertPolicy,
  type AlertRuleKind,
} from '../detectors/alerts/types.ts';
import { DURATION_PATTERN, tryParseDuration } from '../detectors/policy/duration.ts';

/**
 * The `alerts` section of a retrain policy (platform/policy-file.ts): receivers, rules, retry and
 * re-notification. Its output is an {@link AlertPolicy} (asserted below), what the pure evaluator in
 * detectors/alerts/ and the delivery workflow consume.
 *
 * Receiver URLs, tokens and signing keys are never written in a policy: a policy names the
 * environment variable that holds each, and the value is read only when a message is sent, so it
 * appears in no decision, workflow history, record or log.
 */

const DURATION_HINT = 'expected a duration like "30s" or "4h" (one number and one unit of ms, s, m, h, d, w)';
const duration = z.string({ error: DURATION_HINT }).regex(new RegExp(DURATION_PATTERN), { error: DURATION_HINT });
const positiveDuration = duration.refine((d) => (tryParseDuration(d) ?? 1) > 0, {
  error: 'must be longer than zero, e.g. "10s"',
});

const identifier = z
  .string({ error: 'expected a name' })
  .min(1, { error: 'must not be empty' })
  .max(64, { error: 'at most 64 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'use letters, digits and . _ - (starting with a letter or digit)' });

const envName = z
  .string({ error: 'expected the name of an environment variable, e.g. ONCALL_SLACK_URL' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: 'an environment variable name: letters, digits and _, e.g. ONCALL_SLACK_URL',
  })
  .refine((name) => !name.startsWith('HALFLIFE_'), {
    error:
      'HALFLIFE_* variables are halflife settings (an unknown one stops halflife): pick another name, e.g. ONCALL_SLACK_URL',
  });

const SECRET_HINT =
  'expected { env: VARIABLE_NAME }: receiver URLs, tokens and signing keys come from the environment, never from the policy';
const fromEnvironment = z
  .object({ env: envName }, { error: SECRET_HINT })
  .strict()
  .describe('The environment variable holding the value (the value itself is never stored).');

const receiverSchema = z
  .object({
    name: identifier,
    format: z.enum(ALERT_FORMATS, { error: `expected format ${ALERT_FORMATS.map((f) => `"${f}"`).join(', ')}` }),
    url: fromEnvironment,
    token: fromEnvironment.optional(),
    signingKey: fromEnvironment.optional(),
    timeout: positiveDuration.default('10s'),
    resendEvery: positiveDuration.default('5m'),
  })
  .strict();

const severity = (kind: AlertRuleKind) =>
  z
    .enum(['info', 'warning', 'critical'], { error: 'expected severity "info", "warning" or "critical"' })
    .default(DEFAULT_SEVERITY[kind]);

const positiveInt = (what: string) =>
  z
    .number({ error: `expected a number: ${what}` })
    .int({ error: `must be a whole number: ${what}` })
    .min(1, { error: `must be at least 1: ${what}` });

/** Fields every rule has; `name` defaults to the kind after parsing. */
const ruleBase = (kind: AlertRuleKind) => ({
  name: identifier.optional(),
  severity: severity(kind),
  receivers: z
    .array(identifier)
    .min(1, { error: 'name at least one receiver, or leave receivers out for all' })
    .optional(),
});

const ruleSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('health'),
        ...ruleBase('health'),
        states: z
          .array(z.enum(ALERTABLE_HEALTH, { error: `expected health states among ${ALERTABLE_HEALTH.join(', ')}` }))
          .min(1, { error: 'list at least one health state' })
          .default(['degraded', 'data-quality', 'drifting']),
      })
      .strict(),
    z
      .object({
        kind: z.literal('slo'),
        ...ruleBase('slo'),
        consecutiveWindows: positiveInt('consecutive windows below the SLO').default(1),
        within: positiveDuration.optional(),
      })
      .strict(),
    z
      .object({
        kind: z.literal('data-quality'),
        ...ruleBase('data-quality'),
        consecutiveWindows: positiveInt('consecutive failing windows').default(1),
      })
      .strict(),
    z
      .object({
        kind: z.literal('drift'),
        ...ruleBase('drift'),
        consecutiveWindows: positiveInt('consecutive drifted windows').default(2),
        share: z
          .number({ error: 'expected a number between 0 and 1: share of drifted features' })
          .gt(0, { error: 'must be between 0 and 1 (exclusive of 0): share of drifted features' })
          .max(1, { error: 'must be between 0 and 1: share of drifted features' })
          .optional(),
      })
      .strict(),
    z
      .object({ kind: z.literal('approval-pending'), ...ruleBase('approval-pending'), after: duration.default('0s') })
      .strict(),
    z.object({ kind: z.literal('promotion-failed'), ...ruleBase('promotion-failed') }).strict(),
    z.object({ kind: z.literal('serving-disagreement'), ...ruleBase('serving-disagreement') }).strict(),
  ],
  { error: `expected rule kind to be one of ${ALERT_RULE_KINDS.map((k) => `"${k}"`).join(', ')}` },
);

const retrySchema = z
  .object({
    initialInterval: positiveDuration.default(DEFAULT_ALERT_RETRY.initialInterval),
    backoffCoefficient: z
      .number({ error: 'expected a number ≥ 1: how much longer each wait is than the previous' })
      .min(1, { error: 'must be ≥ 1: how much longer each wait is than the previous' })
      .default(DEFAULT_ALERT_RETRY.backoffCoefficient),
    maximumInterval: positiveDuration.default(DEFAULT_ALERT_RETRY.maximumInterval),
    giveUpAfter: positiveDuration.default(DEFAULT_ALERT_RETRY.giveUpAfter),
  })
  .strict();

/** The `alerts` section. Its output is an {@link AlertPolicy}. */
export const alertPolicySchema = z
  .object({
    receivers: z.array(receiverSchema).default([]),
    rules: z
      .array(ruleSchema)
      .min(1, { error: 'add at least one rule, e.g. { kind: drift }' })
      .transform((rules) => rules.map((rule) => ({ ...rule, name: rule.name ?? rule.kind }))),
    renotifyEvery: positiveDuration.optional(),
    retry: retrySchema.default(DEFAULT_ALERT_RETRY),
  })
  .strict()
  .superRefine((alerts, ctx) => {
    const receivers = new Set<string>();
    alerts.receivers.forEach((r, i) => {
      if (receivers.has(r.name))
        ctx.addIssue({
          code: 'custom',
          path: ['receivers', i, 'name'],
          message: `receiver "${r.name}" is declared twice`,
        });
      receivers.add(r.name);
    });
    const rules = new Set<string>();
    alerts.rules.forEach((rule, i) => {
      if (rules.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `two rules are named "${rule.name}": give each rule of the same kind its own name`,
        });
      rules.add(rule.name);
      rule.receivers?.forEach((name, j) => {
        if (!receivers.has(name))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'receivers', j],
            message: `no receiver "${name}" is declared; declared: ${[...receivers].join(', ') || 'none'}`,
          });
      });
    });
    const tooLate =
      alerts.retry && tryParseDuration(alerts.retry.initialInterval)! > tryParseDuration(alerts.retry.giveUpAfter)!;
    if (tooLate)
      ctx.addIssue({
        code: 'custom',
        path: ['retry', 'giveUpAfter'],
        message: 'must be at least the initial interval',
      });
  })
  .describe('Alert rules and where they are delivered. See README "Alerts".');

// Compile-time proof that the schema produces exactly the type the evaluator and the delivery consume.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Exactly<z.output<typeof alertPolicySchema>, AlertPolicy> = true;
void schemaMatchesTypes;

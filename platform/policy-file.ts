import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { isKnownTimeZone } from '../detectors/policy/blackout.ts';
import { DURATION_PATTERN, tryParseDuration } from '../detectors/policy/duration.ts';
import { DEFAULT_DATA_QUALITY } from '../detectors/policy/data-quality-bars.ts';
import { DEFAULT_EVIDENCE } from '../detectors/policy/evidence.ts';
import { DEFAULT_PROBES } from '../detectors/probes/policy.ts';
import { QUALITY_METRICS, type QualityMetric } from '../detectors/quality/quality-metric.ts';
import type { PolicyRef, RetrainPolicy } from '../detectors/policy/types.ts';
import { alertPolicySchema } from './alert-policy-schema.ts';
import { segmentPolicySchema } from './segment-policy-schema.ts';
import { multivariatePolicySchema } from './multivariate-policy-schema.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';

/**
 * Retrain policy files: YAML loaded and validated by zod, published as JSON Schema
 * (`platform/policy-schema.json`), identified by name + version + a sha256 of their canonical JSON
 * for provenance. The evaluator that applies a policy is `detectors/policy/`.
 *
 * The schema's output type is asserted equal to {@link RetrainPolicy} (the pure type the
 * evaluator in `detectors/policy/` consumes), so the two cannot drift apart silently.
 * Every error names its field as `policy.<path>` and says what would be accepted.
 *
 * Regenerate the published schema with `npx tsx platform/policy-file.ts --write-schema`.
 */

const DURATION_HINT = 'expected a duration like "6h" or "2d" (one number and one unit of ms, s, m, h, d, w)';

const duration = z
  .string({ error: DURATION_HINT })
  .regex(new RegExp(DURATION_PATTERN), { error: DURATION_HINT })
  .describe('A duration: one number and one unit of ms, s, m, h, d, w, e.g. "6h" or "2d".');
// A malformed duration is already reported by the pattern; only well-formed zero durations fail here.
const positiveDuration = duration.refine((d) => (tryParseDuration(d) ?? 1) > 0, {
  error: 'must be longer than zero, e.g. "1h"',
});

function requiredNumber(what: string) {
  return z.number({ error: (iss) => (iss.input === undefined ? `required: ${what}` : `expected a number: ${what}`) });
}
const nonNegative = (what: string) => requiredNumber(what).min(0, { error: `must be ≥ 0: ${what}` });
const probability = (what: string) =>
  requiredNumber(what)
    .min(0, { error: `must be between 0 and 1: ${what}` })
    .max(1, { error: `must be between 0 and 1: ${what}` });
const positiveInt = (what: string) =>
  requiredNumber(what)
    .int({ error: `must be a whole number: ${what}` })
    .min(1, { error: `must be at least 1: ${what}` });
const direction = z.enum(['higher-is-better', 'lower-is-better'], {
  error: 'expected "higher-is-better" or "lower-is-better"',
});
const clock = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, {
  error: 'expected a 24-hour time like "09:00" (or "24:00" for end of day)',
});
const isoInstant = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 date-time with a time zone, e.g. "2026-12-24T00:00:00Z"',
});
const identifier = z
  .string({ error: (iss) => (iss.input === undefined ? 'required: add a name' : 'expected a string') })
  .min(1, { error: 'must not be empty' })
  .max(128, { error: 'at most 128 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, {
    error: 'use letters, digits and . _ : - (starting with a letter or digit)',
  });

const DEFAULT_TRAFFIC = { kind: 'observed' as const, fallbackPerHour: 0 };
const DEFAULT_RISK = { probability: 0.05, cost: 0 };

const trafficSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('observed'),
        fallbackPerHour: nonNegative('events per hour assumed when no window has been counted yet').default(0),
      })
      .strict(),
    z.object({ kind: z.literal('fixed'), eventsPerHour: nonNegative('scored events per hour') }).strict(),
  ],
  { error: 'expected traffic.kind "observed" or "fixed"' },
);

const costAwareSchema = z
  .object({
    kind: z.literal('cost-aware').default('cost-aware'),
    valuePerQualityUnit: nonNegative('money lost per scored event per 1.0 of quality lost, e.g. 0.02'),
    traffic: trafficSchema.default(DEFAULT_TRAFFIC),
    horizon: positiveDuration.default('7d'),
    retrainCost: nonNegative('the cost of one retrain in your money unit, e.g. 150'),
    deploymentRisk: z
      .object({
        probability: probability('the probability a retrain fails or regresses').default(0.05),
        cost: nonNegative('what a failed or regressing retrain costs').default(0),
      })
      .strict()
      .default(DEFAULT_RISK),
    quantile: requiredNumber('the quantile of predicted staleness cost')
      .gt(0, { error: 'must be strictly between 0 and 1, e.g. 0.5 for the median' })
      .lt(1, { error: 'must be strictly between 0 and 1, e.g. 0.5 for the median' })
      .default(0.5),
    rule: z
      .enum(['forecast', 'cumulative', 'forecast-then-cumulative'], {
        error: 'expected "forecast", "cumulative" or "forecast-then-cumulative"',
      })
      .default('forecast-then-cumulative'),
  })
  .strict();

const thresholdSchema = z
  .object({
    kind: z.literal('threshold'),
    metric: z.string().min(1, { error: 'name the metric, e.g. "accuracy"' }).default('quality'),
    direction: direction.default('higher-is-better'),
    threshold: requiredNumber('the metric value that counts as a breach, e.g. 0.85'),
    consecutiveWindows: positiveInt('consecutive breaching windows needed').default(1),
    acceptEstimated: z.boolean({ error: 'expected true or false' }).default(true),
  })
  .strict();

const periodicSchema = z.object({ kind: z.literal('periodic'), every: positiveDuration }).strict();

const driftSchema = z
  .object({
    kind: z.literal('drift-triggered'),
    signal: z
      .enum(['dataset-drift', 'drifted-share'], { error: 'expected "dataset-drift" or "drifted-share"' })
      .default('dataset-drift'),
    share: probability('share of drifted features that counts as drift').default(0.5),
    consecutiveWindows: positiveInt('consecutive drifted windows needed').default(2),
  })
  .strict();

const manualSchema = z.object({ kind: z.literal('manual') }).strict();

const TRIGGER_KINDS = ['cost-aware', 'threshold', 'periodic', 'drift-triggered', 'manual'] as const;
const triggerSchema = z.discriminatedUnion(
  'kind',
  [costAwareSchema, thresholdSchema, periodicSchema, driftSchema, manualSchema],
  {
    error: `expected trigger.kind to be one of ${TRIGGER_KINDS.map((k) => `"${k}"`).join(', ')} (omit it for "cost-aware")`,
  },
);

const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], {
  error: 'expected a weekday: mon, tue, wed, thu, fri, sat, sun',
});
const blackoutSchema = z.discriminatedUnion(
  'kind',
  [
    z
      .object({
        kind: z.literal('weekly'),
        days: z.array(weekday).min(1, { error: 'list at least one weekday' }),
        from: clock,
        to: clock,
        timeZone: z
          .string()
          .refine(isKnownTimeZone, { error: 'expected an IANA time zone such as "UTC" or "Europe/Berlin"' })
          .default('UTC'),
        label: z.string().optional(),
      })
      .strict()
      .refine((w) => w.from !== w.to, {
        error: 'from and to must differ (use "00:00" to "24:00" for a whole day)',
        path: ['to'],
      }),
    z
      .object({ kind: z.literal('dates'), start: isoInstant, end: isoInstant, label: z.string().optional() })
      .strict()
      .refine((w) => Date.parse(w.start) < Date.parse(w.end), { error: 'end must be after start', path: ['end'] }),
  ],
  { error: 'expected blackout kind "weekly" (days, from, to, timeZone) or "dates" (start, end)' },
);

const DEFAULT_GUARDS = {
  cooldown: '6h',
  budget: { maxRetrains: 4, per: '7d' },
  oneAtATime: true,
  blackout: [],
  approval: { required: false, timeout: '24h' },
  requireDataQuality: true,
};

const guardsSchema = z
  .object({
    cooldown: duration.default('6h'),
    budget: z
      .object({
        maxRetrains: positiveInt('retrains allowed per budget period').default(4),
        per: positiveDuration.default('7d'),
      })
      .strict()
      .default({ maxRetrains: 4, per: '7d' }),
    oneAtATime: z.boolean({ error: 'expected true or false' }).default(true),
    blackout: z.array(blackoutSchema).default([]),
    approval: z
      .object({
        required: z.boolean({ error: 'expected true or false' }).default(false),
        timeout: positiveDuration.default('24h'),
      })
      .strict()
      .default({ required: false, timeout: '24h' }),
    requireDataQuality: z.boolean({ error: 'expected true or false' }).default(true),
  })
  .strict();

const trainingWindowSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('fixed'), duration: positiveDuration.default('30d') }).strict(),
    z
      .object({
        kind: z.literal('since-change-point'),
        minimum: positiveDuration.default('3d'),
        fallback: positiveDuration.default('30d'),
      })
      .strict(),
    z.object({ kind: z.literal('all') }).strict(),
  ],
  { error: 'expected trainingWindow.kind "fixed", "since-change-point" or "all"' },
);

const LATE_LABEL_HORIZON_HINT =
  'expected "auto" or a duration longer than zero like "2h" or "3d": how long after a window closes its late labels still count (omit it for "auto")';

const evidenceSchema = z
  .object({
    minLabelledEvents: positiveInt(
      'labelled events behind a realised quality value (a window with fewer is pooled with its neighbours of the same version)',
    ).default(DEFAULT_EVIDENCE.minLabelledEvents),
    minDecayPoints: requiredNumber('quality points before the decay is fitted as a curve')
      .int({ error: 'must be a whole number: quality points before the decay is fitted as a curve' })
      .min(3, { error: 'must be at least 3: a curve has three parameters' })
      .default(DEFAULT_EVIDENCE.minDecayPoints),
    minWindowRows: positiveInt('scored events under which a window is weak evidence').default(
      DEFAULT_EVIDENCE.minWindowRows,
    ),
    minTrainingLabelled: z
      .union([z.literal('auto'), positiveInt('labelled rows a retrain needs after a change or broken data')], {
        error: 'expected "auto" or a whole number ≥ 1 of labelled rows',
      })
      .default(DEFAULT_EVIDENCE.minTrainingLabelled),
    // No default written in: a policy that leaves it out keeps its content hash ("auto").
    lateLabelHorizon: z
      .string({ error: LATE_LABEL_HORIZON_HINT })
      .refine((v) => v === 'auto' || (tryParseDuration(v) ?? 0) > 0, { error: LATE_LABEL_HORIZON_HINT })
      .describe('"auto" (sized from the model\'s label delays) or a duration like "2h" or "3d". @default "auto"')
      .optional(),
  })
  .strict()
  .describe(
    'Window minimums: labelled events per realised quality value (fewer are pooled), points for a decay curve, rows for a drift verdict, labelled rows a retrain needs after a change or broken data, and how long after a window closes its late labels count (lateLabelHorizon: "auto", the default, sizes it from the model\'s label delays). Omit for the defaults.',
  );

/** A share in (0, 1]: a bar of 0 would call every window broken (every rate is ≥ 0). */
const shareBar = (setting: string, what: string, example: number) =>
  requiredNumber(`${setting}, ${what}`)
    .gt(0, { error: `must be above 0 and at most 1: ${setting}, ${what}, e.g. ${example}` })
    .max(1, { error: `must be above 0 and at most 1: ${setting}, ${what}, e.g. ${example}` });
/** A probability strictly between 0 and 1. */
const openP = (setting: string, what: string, example: number) =>
  requiredNumber(`${setting}, ${what}`)
    .gt(0, { error: `must be strictly between 0 and 1: ${setting}, ${what}, e.g. ${example}` })
    .lt(1, { error: `must be strictly between 0 and 1: ${setting}, ${what}, e.g. ${example}` });
const standardErrors = (setting: string, what: string) =>
  requiredNumber(`${setting}, ${what}`).min(0, { error: `must be ≥ 0: ${setting}, ${what}, e.g. 3` });
const valueCount = (setting: string, what: string) =>
  requiredNumber(`${setting}, ${what}`)
    .int({ error: `must be a whole number: ${setting}, ${what}` })
    .min(1, { error: `must be at least 1: ${setting}, ${what}` });

const dq = DEFAULT_DATA_QUALITY;
const dataQualitySchema = z
  .object({
    missingRateIncrease: shareBar(
      'missingRateIncrease',
      "rise of a feature's missing rate over the reference's that is breakage",
      0.05,
    ).default(dq.missingRateIncrease),
    missingRateZ: standardErrors('missingRateZ', 'binomial standard errors the missing-rate rise must reach').default(
      dq.missingRateZ,
    ),
    typeViolationRate: shareBar(
      'typeViolationRate',
      'share of values of the wrong type that is breakage',
      0.01,
    ).default(dq.typeViolationRate),
    deadLetterRate: shareBar(
      'deadLetterRate',
      'share of events dead-lettered at ingest that is breakage',
      0.01,
    ).default(dq.deadLetterRate),
    featureAppearedRate: shareBar(
      'featureAppearedRate',
      'share of rows with feature keys the reference lacks that is breakage',
      0.05,
    ).default(dq.featureAppearedRate),
    outOfRangeRate: shareBar(
      'outOfRangeRate',
      "share of values outside the reference's range reported as shift",
      0.05,
    ).default(dq.outOfRangeRate),
    unseenCategoryRate: shareBar(
      'unseenCategoryRate',
      'share of values in categories the reference lacks reported as shift',
      0.05,
    ).default(dq.unseenCategoryRate),
    stuckShareIncrease: shareBar(
      'stuckShareIncrease',
      "rise of the most frequent value's share over the reference's that makes it stuck",
      0.2,
    ).default(dq.stuckShareIncrease),
    stuckShareZ: standardErrors('stuckShareZ', 'binomial standard errors the stuck-value rise must reach').default(
      dq.stuckShareZ,
    ),
    stuckMinValues: valueCount('stuckMinValues', 'non-missing values before the stuck-value check applies').default(
      dq.stuckMinValues,
    ),
    zeroVarianceMinValues: valueCount(
      'zeroVarianceMinValues',
      'non-missing values before "all values equal" counts as stuck',
    ).default(dq.zeroVarianceMinValues),
    stuckReferenceMass: shareBar(
      'stuckReferenceMass',
      "the reference's most frequent value share from which a feature's values repeat",
      0.01,
    ).default(dq.stuckReferenceMass),
    stuckSpreadKept: shareBar(
      'stuckSpreadKept',
      "share of the reference's standard deviation a window keeps for a grown value to be shift",
      0.5,
    ).default(dq.stuckSpreadKept),
    stuckRunsP: openP(
      'stuckRunsP',
      "runs-test p at or under which a value's repeats come in stretches (stuck)",
      0.01,
    ).default(dq.stuckRunsP),
    stuckOthersSpread: shareBar(
      'stuckOthersSpread',
      "share of the reference's standard deviation the other values keep for interleaved repeats to be a ceiling",
      0.25,
    ).default(dq.stuckOthersSpread),
  })
  .strict()
  .describe(
    "The bars between broken data (a retrain never trains on it), shifted data (reported, never a block) and fine data: missing, wrong-type, dead-lettered and appeared rates, out-of-range and unseen shares, and the stuck-value bars. Each default is the detector's; omit for the defaults.",
  );

const probesSchema = z
  .object({
    enabled: z
      .boolean({ error: 'expected true or false: whether the cost-aware trigger may probe' })
      .default(DEFAULT_PROBES.enabled),
    probeCost: z
      .union([z.literal('auto'), nonNegative('the price of one probe (a training run and a scoring pass)')], {
        error: 'expected "auto" or a number ≥ 0: the price of one probe in the trigger\'s money unit',
      })
      .default(DEFAULT_PROBES.probeCost),
    minPairedEvents: positiveInt('paired labelled events a probe scores before its gap is read').default(
      DEFAULT_PROBES.minPairedEvents,
    ),
    maxWindows: positiveInt('windows a probe scores at most').default(DEFAULT_PROBES.maxWindows),
    priorGap: requiredNumber('prior scale of the gap a fresh model might find, in quality units')
      .min(0, { error: 'must be ≥ 0: prior scale of the gap, in quality units' })
      .max(1, { error: 'must be ≤ 1: prior scale of the gap, in quality units' })
      .default(DEFAULT_PROBES.priorGap),
  })
  .strict()
  .describe(
    'Challenger probes of the cost-aware trigger: a challenger trained on the training window, never deployed, scored beside the champion on the next labelled windows. Probes are on by default (cost "auto": 5% of the retrain cost); omit for the defaults.',
  );

/** The quality metric the monitor tracks; whether it fits the model's kind is checked against the registry. */
const qualityPolicySchema = z
  .object({
    metric: z.enum(QUALITY_METRICS as [QualityMetric, ...QualityMetric[]], {
      error: `expected one of ${QUALITY_METRICS.join(', ')}`,
    }),
    worthlessError: z
      .number({ error: 'expected a number: the error at which the model is of no use' })
      .positive({ error: "must be positive: the error (in the target's units) at which the model is of no use" })
      .optional(),
  })
  .strict()
  .refine((q) => !((q.metric === 'mae' || q.metric === 'rmse') && q.worthlessError === undefined), {
    error: "mae and rmse need worthlessError: the error (in the target's units) at which the model is of no use",
    path: ['worthlessError'],
  })
  .describe(
    'The quality metric the monitor tracks (binary: accuracy, auc; multiclass: accuracy, macro_f1, log_loss; regression: mae, rmse, r2), turned into a quality in [0, 1] where higher is better.',
  );

/** The retrain policy schema. Its output is a {@link RetrainPolicy}. */
export const policySchema = z
  .object({
    name: identifier,
    version: z
      .union([z.string().min(1), z.number()], { error: 'required: a version such as "1" or "2026-01-31"' })
      .transform((v) => String(v))
      .pipe(z.string()),
    model: identifier,
    description: z.string().default(''),
    trigger: triggerSchema,
    guards: guardsSchema.default(DEFAULT_GUARDS),
    trainingWindow: trainingWindowSchema.default({ kind: 'fixed', duration: '30d' }),
    // Optional without a default, so a policy without alerts keeps the hash it always had.
    alerts: alertPolicySchema.optional(),
    // Optional, not defaulted: a policy that does not set it keeps the content hash it had.
    evidence: evidenceSchema.optional(),
    // Optional, not defaulted: a policy that does not set it keeps the content hash it had.
    dataQuality: dataQualitySchema.optional(),
    // Optional, not defaulted: a policy without segments keeps its hash.
    segments: segmentPolicySchema.optional(),
    // Optional, not defaulted, for the same reason.
    multivariate: multivariatePolicySchema.optional(),
    // Optional, not defaulted, for the same reason.
    probes: probesSchema.optional(),
    // Optional, not defaulted, for the same reason.
    quality: qualityPolicySchema.optional(),
  })
  .strict()
  .meta({
    title: 'halflife retrain policy',
    description: 'When and how halflife retrains one model. See examples/policies/*.yaml.',
  });

// Compile-time proof that the schema produces exactly the type the pure evaluator consumes.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Exactly<z.output<typeof policySchema>, RetrainPolicy> = true;
void schemaMatchesTypes;

/** A validated policy and the reference that identifies it in decisions. */
export interface LoadedPolicy {
  policy: RetrainPolicy;
  ref: PolicyRef;
}

export type PolicyParseResult =
  { ok: true; value: LoadedPolicy } | { ok: false; reason: string; issues: ValidationIssue[] };

/** JSON with object keys sorted recursively and no whitespace: the same policy always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of a defaults-applied policy: equal for equal effective policies. */
export function policyHash(policy: RetrainPolicy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

/** Validate an already-parsed object (from YAML, JSON or an API call). Never throws. */
export function safeParsePolicy(input: unknown): PolicyParseResult {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => describeIssue(issue, input));
    return { ok: false, reason: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
  }
  const policy: RetrainPolicy = parsed.data;
  return { ok: true, value: { policy, ref: { name: policy.name, version: policy.version, hash: policyHash(policy) } } };
}

/** Validate an already-parsed object; throws a {@link ValidationError} listing every problem. */
export function parsePolicy(input: unknown, source = 'policy'): LoadedPolicy {
  const result = safeParsePolicy(input);
  if (!result.ok) throw new ValidationError(`invalid retrain policy ${source}: ${result.reason}`, result.issues);
  return result.value;
}

/** Parse and validate policy YAML text; YAML syntax errors name the line. */
export function parsePolicyYaml(text: string, source = 'policy'): LoadedPolicy {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      path: 'policy',
      message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`,
    }));
    throw new ValidationError(`invalid retrain policy ${source}: ${issues.map((i) => i.message).join('; ')}`, issues);
  }
  return parsePolicy(doc.toJS(), source);
}

/** Read, parse and validate a policy file. */
export function loadPolicyFile(file: string): LoadedPolicy {
  return parsePolicyYaml(readFileSync(file, 'utf8'), file);
}

/** The published JSON Schema of a policy document (what a user writes, before defaults). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://halflife.dev/schemas/policy.schema.json' };
}

/** Where the generated JSON Schema is committed. */
export const POLICY_SCHEMA_FILE = fileURLToPath(new URL('./policy-schema.json', import.meta.url));

/** The exact text committed in {@link POLICY_SCHEMA_FILE}. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

// ---- error messages -------------------------------------------------------------------------

function describeIssue(issue: z.core.$ZodIssue, input: unknown): ValidationIssue {
  const where = ['policy', ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(policySchema, input, issue.path);
    const hints = issue.keys.map((k) => {
      const near = allowed.length > 0 ? closest(k, allowed) : null;
      return near !== null ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
    });
    const list = allowed.length > 0 ? `; allowed fields: ${allowed.join(', ')}` : '';
    return { path: where, message: `unknown field ${hints.join(', ')}${list}` };
  }
  const missing =
    (issue.code === 'invalid_union' || issue.code === 'invalid_type') &&
    issue.path.length > 0 &&
    valueAt(input, issue.path) === undefined;
  if (missing && !issue.message.startsWith('required')) {
    return { path: where, message: `required field is missing: ${issue.message}` };
  }
  return { path: where, message: issue.message };
}

function valueAt(input: unknown, at: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const key of at) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** The field names the schema accepts at `at`, following the input to pick union branches. */
function allowedKeysAt(schema: z.ZodType, input: unknown, at: readonly PropertyKey[]): string[] {
  let cur: z.ZodType | undefined = schema;
  let value = input;
  for (let i = 0; i <= at.length && cur !== undefined; i++) {
    cur = unwrap(cur, value);
    if (i === at.length) break;
    const key = at[i] as PropertyKey;
    if (cur instanceof z.ZodObject) cur = (cur.shape as Record<string, z.ZodType>)[String(key)];
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else cur = undefined;
    value = valueAt(value, [key]);
  }
  return cur instanceof z.ZodObject ? Object.keys(cur.shape as Record<string, unknown>) : [];
}

function unwrap(schema: z.ZodType, value: unknown): z.ZodType {
  let cur: z.ZodType = schema;
  for (let guard = 0; guard < 10; guard++) {
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else if (cur instanceof z.ZodDiscriminatedUnion) {
      const kind = valueAt(value, ['kind']);
      const options = cur.options as z.ZodType[];
      const match = options.find((o) => {
        const inner = unwrap(o, value);
        if (!(inner instanceof z.ZodObject)) return false;
        const k = unwrap((inner.shape as Record<string, z.ZodType>)['kind'] ?? z.never(), undefined);
        return (
          k instanceof z.ZodLiteral &&
          (k.values.has(kind as never) ||
            (kind === undefined && (inner.shape as Record<string, z.ZodType>)['kind'] instanceof z.ZodDefault))
        );
      });
      if (match === undefined) return cur;
      cur = match;
    } else return cur;
  }
  return cur;
}

/** The allowed name nearest to `name` by edit distance, if it is a plausible typo. */
function closest(name: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  if (bestDistance <= Math.max(2, Math.floor(name.length / 3))) return best;
  // A truncated name ("consecutive" for "consecutiveWindows") is a typo too.
  const lower = name.toLowerCase();
  return name.length >= 4
    ? (allowed.find((c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase())) ?? null)
    : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

// `npx tsx platform/policy-file.ts --write-schema` regenerates the committed JSON Schema.
if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) &&
  process.argv.includes('--write-schema')
) {
  writeFileSync(POLICY_SCHEMA_FILE, policyJsonSchemaText());
  console.log(`wrote ${POLICY_SCHEMA_FILE}`);
}

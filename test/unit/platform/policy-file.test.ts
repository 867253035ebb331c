import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVIDENCE, resolveEvidence } from '../../../detectors/policy/evidence.ts';
import { ValidationError } from '../../../platform/errors.ts';
import {
  POLICY_SCHEMA_FILE,
  canonicalJson,
  loadPolicyFile,
  parsePolicy,
  parsePolicyYaml,
  policyHash,
  policyJsonSchemaText,
  safeParsePolicy,
} from '../../../platform/policy-file.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples/policies');
const MINIMAL = { name: 'p', version: 1, model: 'fraud', trigger: { valuePerQualityUnit: 0.02, retrainCost: 100 } };

function messages(input: unknown): string[] {
  const r = safeParsePolicy(input);
  if (r.ok) throw new Error('expected the policy to be invalid');
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('policy JSON Schema', () => {
  it('the committed platform/policy-schema.json equals the generated one (regenerate: npx tsx platform/policy-file.ts --write-schema)', () => {
    expect(readFileSync(POLICY_SCHEMA_FILE, 'utf8')).toBe(policyJsonSchemaText());
  });

  it('publishes every trigger kind and the duration pattern', () => {
    const text = policyJsonSchemaText();
    for (const kind of ['cost-aware', 'threshold', 'periodic', 'drift-triggered', 'manual', 'since-change-point'])
      expect(text).toContain(`"${kind}"`);
    expect(text).toContain('(?:ms|s|m|h|d|w)');
  });
});

describe('example policies', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('there are at least three', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('%s validates', (file) => {
    const loaded = loadPolicyFile(path.join(EXAMPLES, file));
    expect(loaded.ref.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.ref.name).toBe(loaded.policy.name);
  });
});

describe('parsing and defaults', () => {
  it('a minimal policy gets the cost-aware trigger and documented defaults', () => {
    const { policy, ref } = parsePolicy(MINIMAL);
    expect(ref.version).toBe('1');
    expect(policy.trigger).toEqual({
      kind: 'cost-aware',
      valuePerQualityUnit: 0.02,
      retrainCost: 100,
      traffic: { kind: 'observed', fallbackPerHour: 0 },
      horizon: '7d',
      deploymentRisk: { probability: 0.05, cost: 0 },
      quantile: 0.5,
      rule: 'forecast-then-cumulative',
    });
    expect(policy.guards).toEqual({
      cooldown: '6h',
      budget: { maxRetrains: 4, per: '7d' },
      oneAtATime: true,
      blackout: [],
      approval: { required: false, timeout: '24h' },
      requireDataQuality: true,
    });
    expect(policy.trainingWindow).toEqual({ kind: 'fixed', duration: '30d' });
  });

  it('fills nested defaults of partially written sections', () => {
    const { policy } = parsePolicy({
      ...MINIMAL,
      guards: { approval: { required: true } },
      trainingWindow: { kind: 'since-change-point' },
    });
    expect(policy.guards.approval).toEqual({ required: true, timeout: '24h' });
    expect(policy.guards.cooldown).toBe('6h');
    expect(policy.trainingWindow).toEqual({ kind: 'since-change-point', minimum: '3d', fallback: '30d' });
  });
});

describe('content hash', () => {
  it('is the sha256 of the canonical JSON: independent of key order and of defaults being written out', () => {
    const a = parsePolicy(MINIMAL).ref.hash;
    const reordered = parsePolicy({
      trigger: { retrainCost: 100, valuePerQualityUnit: 0.02 },
      model: 'fraud',
      version: '1',
      name: 'p',
    }).ref.hash;
    const explicit = parsePolicy({
      ...MINIMAL,
      guards: { cooldown: '6h' },
      trigger: { ...MINIMAL.trigger, kind: 'cost-aware', quantile: 0.5 },
    }).ref.hash;
    expect(reordered).toBe(a);
    expect(explicit).toBe(a);
    expect(parsePolicy({ ...MINIMAL, guards: { cooldown: '7h' } }).ref.hash).not.toBe(a);
  });

  it('canonical JSON sorts keys recursively', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(policyHash(parsePolicy(MINIMAL).policy)).toBe(parsePolicy(MINIMAL).ref.hash);
  });
});

describe('window minimums (evidence)', () => {
  it('are optional: a policy without them has no evidence section, so its content hash is what it was', () => {
    const { policy } = parsePolicy(MINIMAL);
    expect(policy.evidence).toBeUndefined();
    expect(canonicalJson(policy)).not.toContain('evidence');
  });

  it('get documented defaults when written, and "auto" sizes the post-change minimum to the model', () => {
    const { policy, ref } = parsePolicy({ ...MINIMAL, evidence: { minLabelledEvents: 50 } });
    expect(policy.evidence).toEqual({
      minLabelledEvents: 50,
      minDecayPoints: 4,
      minWindowRows: 100,
      minTrainingLabelled: 'auto',
    });
    expect(ref.hash).not.toBe(parsePolicy(MINIMAL).ref.hash);
    expect(resolveEvidence(policy.evidence, 3)).toMatchObject({ minTrainingLabelled: 200 });
    expect(resolveEvidence(policy.evidence, 30)).toMatchObject({ minTrainingLabelled: 50 * 31 });
    expect(resolveEvidence({ ...DEFAULT_EVIDENCE, minTrainingLabelled: 5000 }, 30)).toMatchObject({
      minTrainingLabelled: 5000,
      minTrainingLabelledSource: 'policy evidence.minTrainingLabelled',
    });
    expect(resolveEvidence(undefined, null)).toMatchObject({ minLabelledEvents: 30, minTrainingLabelled: 200 });
  });

  it('bad values name the field and what is accepted', () => {
    expect(messages({ ...MINIMAL, evidence: { minLabelledEvents: 0 } })).toEqual([
      'policy.evidence.minLabelledEvents: must be at least 1: labelled events behind a realised quality value (a window with fewer is pooled with its neighbours of the same version)',
    ]);
    expect(messages({ ...MINIMAL, evidence: { minDecayPoints: 2 } })).toEqual([
      'policy.evidence.minDecayPoints: must be at least 3: a curve has three parameters',
    ]);
    expect(messages({ ...MINIMAL, evidence: { minTrainingLabelled: 'lots' } })).toEqual([
      'policy.evidence.minTrainingLabelled: expected "auto" or a whole number ≥ 1 of labelled rows',
    ]);
    expect(messages({ ...MINIMAL, evidence: { minLabelled: 5 } })[0]).toMatch(
      /unknown field "minLabelled" \(did you mean "minLabelledEvents"\?\)/,
    );
  });
});

describe('errors name the field and the fix', () => {
  it('durations', () => {
    expect(messages({ ...MINIMAL, guards: { cooldown: '6 hours' } })).toEqual([
      'policy.guards.cooldown: expected a duration like "6h" or "2d" (one number and one unit of ms, s, m, h, d, w)',
    ]);
    expect(messages({ ...MINIMAL, trigger: { ...MINIMAL.trigger, horizon: '0h' } })[0]).toMatch(
      /^policy\.trigger\.horizon: must be longer than zero/,
    );
  });

  it('missing required fields', () => {
    expect(messages({ name: 'p', version: 1, model: 'm', trigger: { valuePerQualityUnit: 1 } })).toEqual([
      'policy.trigger.retrainCost: required: the cost of one retrain in your money unit, e.g. 150',
    ]);
    expect(messages({ name: 'p', version: 1, model: 'm' })[0]).toMatch(/^policy\.trigger: required field is missing/);
    expect(messages({ ...MINIMAL, version: undefined })[0]).toMatch(/^policy\.version: required/);
  });

  it('unknown fields, with a suggestion and the allowed list', () => {
    const [m] = messages({ ...MINIMAL, guards: { coolDown: '6h' } });
    expect(m).toMatch(
      /^policy\.guards: unknown field "coolDown" \(did you mean "cooldown"\?\); allowed fields: cooldown, budget/,
    );
    expect(messages({ ...MINIMAL, trigger: { kind: 'threshold', threshold: 0.8, consecutive: 2 } })[0]).toMatch(
      /did you mean "consecutiveWindows"/,
    );
  });

  it('unknown kinds list the valid ones', () => {
    expect(messages({ ...MINIMAL, trigger: { kind: 'periodical', every: '1d' } })[0]).toMatch(
      /^policy\.trigger\.kind: expected trigger\.kind to be one of "cost-aware", "threshold", "periodic"/,
    );
    expect(messages({ ...MINIMAL, trainingWindow: { kind: 'recent' } })[0]).toMatch(
      /^policy\.trainingWindow\.kind: expected trainingWindow\.kind "fixed"/,
    );
  });

  it('ranges, time zones, clock times and dates', () => {
    expect(messages({ ...MINIMAL, trigger: { ...MINIMAL.trigger, quantile: 1 } })[0]).toMatch(
      /^policy\.trigger\.quantile: must be strictly between 0 and 1/,
    );
    expect(messages({ ...MINIMAL, trigger: { ...MINIMAL.trigger, deploymentRisk: { probability: 2 } } })[0]).toMatch(
      /^policy\.trigger\.deploymentRisk\.probability: must be between 0 and 1/,
    );
    expect(messages({ ...MINIMAL, guards: { budget: { maxRetrains: 0 } } })[0]).toMatch(
      /^policy\.guards\.budget\.maxRetrains: must be at least 1/,
    );
    const blackout = (w: object) => messages({ ...MINIMAL, guards: { blackout: [w] } })[0];
    expect(blackout({ kind: 'weekly', days: ['sat'], from: '00:00', to: '24:00', timeZone: 'Mars/Olympus' })).toMatch(
      /^policy\.guards\.blackout\.0\.timeZone: expected an IANA time zone/,
    );
    expect(blackout({ kind: 'weekly', days: ['saturday'], from: '00:00', to: '24:00' })).toMatch(
      /^policy\.guards\.blackout\.0\.days\.0: expected a weekday/,
    );
    expect(blackout({ kind: 'weekly', days: ['sat'], from: '9:00', to: '17:00' })).toMatch(
      /^policy\.guards\.blackout\.0\.from: expected a 24-hour time/,
    );
    expect(blackout({ kind: 'dates', start: '2026-02-01T00:00:00Z', end: '2026-01-01T00:00:00Z' })).toMatch(
      /^policy\.guards\.blackout\.0\.end: end must be after start/,
    );
  });

  it('parsePolicyYaml throws a ValidationError with every issue, and names YAML syntax errors', () => {
    const bad = 'name: p\nversion: 1\nmodel: m\ntrigger:\n  kind: periodic\n  every: soon\nguards:\n  cooldown: 5\n';
    try {
      parsePolicyYaml(bad, 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const e = err as ValidationError;
      expect(e.exitCode).toBe(3);
      expect(e.message).toMatch(/^invalid retrain policy bad\.yaml: /);
      expect(e.issues.map((i) => i.path)).toEqual(['policy.trigger.every', 'policy.guards.cooldown']);
    }
    expect(() => parsePolicyYaml('name: [unclosed\n', 'broken.yaml')).toThrow(/YAML syntax/);
    expect(() => parsePolicyYaml('name: a\nname: b\n')).toThrow(/YAML syntax/);
  });
});

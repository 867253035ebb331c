// The policy's `dataQuality` bars: optional (a policy without them keeps its hash), defaults equal
// to the detector's thresholds (and to what the policy types document), round-tripped through a
// file, and bad values refused with the setting and its valid range named.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY_THRESHOLDS } from '../../../detectors/drift/data-quality.ts';
import { DEFAULT_FOLLOW_UP_BARS } from '../../../detectors/drift/window-follow-ups.ts';
import {
  DEFAULT_DATA_QUALITY,
  changedBarsText,
  followUpBarsOf,
  qualityThresholdsOf,
} from '../../../detectors/policy/data-quality-bars.ts';
import { ValidationError } from '../../../platform/errors.ts';
import { canonicalJson, parsePolicy, parsePolicyYaml, safeParsePolicy } from '../../../platform/policy-file.ts';

const MINIMAL = { name: 'p', version: 1, model: 'fraud', trigger: { valuePerQualityUnit: 0.02, retrainCost: 100 } };
const TYPES_FILE = path.resolve(import.meta.dirname, '../../../detectors/policy/types.ts');

function messages(input: unknown): string[] {
  const r = safeParsePolicy(input);
  if (r.ok) throw new Error('expected the policy to be invalid');
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

/** The `@default` of each field of `DataQualityPolicy`, as its doc comments state them. */
function documentedDefaults(): Record<string, number> {
  const text = readFileSync(TYPES_FILE, 'utf8');
  const body = /export interface DataQualityPolicy \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/@default ([0-9.]+)[\s\S]*?\*\/\s*\n\s*(\w+): number;/g)) out[m[2]!] = Number(m[1]);
  return out;
}

describe('policy dataQuality bars', () => {
  it('are optional: a policy without them has no dataQuality section and the detector keeps its thresholds', () => {
    const { policy } = parsePolicy(MINIMAL);
    expect(policy.dataQuality).toBeUndefined();
    expect(canonicalJson(policy)).not.toContain('dataQuality');
    expect(qualityThresholdsOf(policy.dataQuality)).toEqual({});
    expect(followUpBarsOf(policy.dataQuality)).toEqual(DEFAULT_FOLLOW_UP_BARS);
  });

  it('default to the detector thresholds, as each field documents', () => {
    const documented = documentedDefaults();
    expect(Object.keys(documented).sort()).toEqual(Object.keys(DEFAULT_DATA_QUALITY).sort());
    expect(documented).toEqual(DEFAULT_DATA_QUALITY);
    const thresholds = qualityThresholdsOf(DEFAULT_DATA_QUALITY);
    expect({ ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds }).toEqual(DEFAULT_QUALITY_THRESHOLDS);
    expect(Object.keys(thresholds)).toHaveLength(15);
    // A written section gets every default it leaves out; the one it sets reaches the detector.
    const { policy } = parsePolicy({ ...MINIMAL, dataQuality: { stuckRunsP: 0.2 } });
    expect(policy.dataQuality).toEqual({ ...DEFAULT_DATA_QUALITY, stuckRunsP: 0.2 });
    expect(qualityThresholdsOf(policy.dataQuality)).toMatchObject({ stuck_runs_p: 0.2, stuck_share_increase: 0.2 });
  });

  it('round-trip through a policy file: same bars, same hash', () => {
    const text = [
      'name: spiky',
      'version: "2"',
      'model: fraud',
      'trigger: { valuePerQualityUnit: 0.02, retrainCost: 100 }',
      'dataQuality:',
      '  stuckShareIncrease: 0.35   # a feature with legitimately spiky values',
      '  stuckRunsP: 0.001',
      '  deadLetterRate: 0.05',
      '  zeroVarianceMinValues: 12',
      '',
    ].join('\n');
    const first = parsePolicyYaml(text, 'spiky.yaml');
    expect(first.policy.dataQuality).toMatchObject({
      stuckShareIncrease: 0.35,
      stuckRunsP: 0.001,
      deadLetterRate: 0.05,
      zeroVarianceMinValues: 12,
      missingRateIncrease: 0.05,
    });
    const again = parsePolicyYaml(stringify(first.policy), 'again.yaml');
    expect(again.policy).toEqual(first.policy);
    expect(again.ref.hash).toBe(first.ref.hash);
    expect(followUpBarsOf(again.policy.dataQuality)).toEqual({ stuckCandidateRise: 0.175, appearedNamedRate: 0.05 });
    // What `halflife policy validate` prints of them.
    expect(changedBarsText(again.policy.dataQuality)).toBe(
      'deadLetterRate 0.05 (default 0.01), stuckShareIncrease 0.35 (default 0.2), zeroVarianceMinValues 12 (default 5), stuckRunsP 0.001 (default 0.01)',
    );
    expect(changedBarsText(parsePolicy({ ...MINIMAL, dataQuality: {} }).policy.dataQuality)).toBeNull();
    // Writing out a default changes nothing: the same effective policy has the same hash.
    const explicit = parsePolicy({ ...MINIMAL, dataQuality: { stuckRunsP: 0.01 } });
    const implicit = parsePolicy({ ...MINIMAL, dataQuality: {} });
    expect(explicit.ref.hash).toBe(implicit.ref.hash);
    expect(explicit.ref.hash).not.toBe(parsePolicy(MINIMAL).ref.hash);
  });

  it('refuse bad values, naming the setting and the valid range', () => {
    expect(messages({ ...MINIMAL, dataQuality: { stuckRunsP: 1 } })).toEqual([
      "policy.dataQuality.stuckRunsP: must be strictly between 0 and 1: stuckRunsP, runs-test p at or under which a value's repeats come in stretches (stuck), e.g. 0.01",
    ]);
    expect(messages({ ...MINIMAL, dataQuality: { stuckRunsP: 0 } })[0]).toMatch(
      /^policy\.dataQuality\.stuckRunsP: must be strictly between 0 and 1/,
    );
    expect(messages({ ...MINIMAL, dataQuality: { deadLetterRate: 0 } })).toEqual([
      'policy.dataQuality.deadLetterRate: must be above 0 and at most 1: deadLetterRate, share of events dead-lettered at ingest that is breakage, e.g. 0.01',
    ]);
    expect(messages({ ...MINIMAL, dataQuality: { stuckShareIncrease: 1.5 } })[0]).toMatch(
      /^policy\.dataQuality\.stuckShareIncrease: must be above 0 and at most 1: stuckShareIncrease, /,
    );
    expect(messages({ ...MINIMAL, dataQuality: { missingRateZ: -1 } })[0]).toMatch(
      /^policy\.dataQuality\.missingRateZ: must be ≥ 0: missingRateZ, /,
    );
    expect(messages({ ...MINIMAL, dataQuality: { stuckMinValues: 2.5 } })[0]).toMatch(
      /^policy\.dataQuality\.stuckMinValues: must be a whole number: stuckMinValues, /,
    );
    expect(messages({ ...MINIMAL, dataQuality: { stuckRunsP: '0.01' } })[0]).toMatch(
      /^policy\.dataQuality\.stuckRunsP: expected a number: stuckRunsP, /,
    );
    expect(messages({ ...MINIMAL, dataQuality: { stuckRunP: 0.01 } })[0]).toMatch(
      /^policy\.dataQuality: unknown field "stuckRunP" \(did you mean "stuckRunsP"\?\)/,
    );
    expect(() =>
      parsePolicyYaml('name: p\nversion: 1\nmodel: m\ntrigger: {kind: manual}\ndataQuality: {stuckRunsP: 2}\n'),
    ).toThrow(ValidationError);
  });
});

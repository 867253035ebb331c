import { describe, expect, it } from 'vitest';
import {
  labelContract,
  labelRow,
  labelSchema,
  parseJsonRecord,
  scoringEventContract,
  scoringEventRow,
  scoringEventSchema,
  validateLabel,
  validateScoringEvent,
} from '../../../platform/contracts.ts';

const from = { source: 'kafka' as const, ref: 't:0:1' };
const good = {
  event_id: 'e1',
  model_id: 'churn',
  model_version: 'v1',
  timestamp: '2026-11-26T12:00:00Z',
  features: { tenure: 14, plan: 'pro', discount: false, last_login: null },
  prediction: { score: 0.8, class: 'churn' },
  subject_id: 'cust-1',
};

describe('scoring event contract', () => {
  it('splits features into numeric, categorical and missing', () => {
    const result = validateScoringEvent(good, from);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      num_features: { tenure: 14 },
      cat_features: { plan: 'pro', discount: 'false' },
      missing_features: ['last_login'],
      prediction_score: 0.8,
      prediction_class: 'churn',
      prediction_value: null,
      ts: Date.parse('2026-11-26T12:00:00Z'),
      subject_id: 'cust-1',
      source_ref: 't:0:1',
    });
  });

  it.each([
    [{ ...good, event_id: undefined }, 'event_id'],
    [{ ...good, timestamp: 'yesterday' }, 'timestamp'],
    [{ ...good, timestamp: '2026-11-26T12:00:00' }, 'timestamp'],
    [{ ...good, features: {} }, 'features'],
    [{ ...good, features: { 'bad name': 1 } }, 'features'],
    [{ ...good, prediction: {} }, 'prediction'],
    [{ ...good, prediction: { score: 1.5 } }, 'prediction.score'],
    [{ ...good, model_id: 'has space' }, 'model_id'],
    [{ ...good, extra: 1 }, 'unknown field(s) extra'],
    [{ ...good, features: { x: [1, 'two'] } }, 'features.x.1: element 1 of vector feature x is a string'],
    [{ ...good, features: { x: [1, null] } }, 'features.x.1: element 1 of vector feature x is null'],
    [{ ...good, features: { x: [] } }, 'features.x: an empty array'],
    [{ ...good, features: { x: [[1], [2]] } }, 'features.x.0: element 0 of vector feature x is a object'],
    [{ ...good, features: { x: Array(4097).fill(0) } }, 'features.x: a vector of 4097 numbers, more than the 4096'],
    [{ ...good, features: { x: [1, Infinity] } }, 'features.x.1: Infinity is not a finite number'],
  ])('rejects %j naming %s', (input, field) => {
    const result = validateScoringEvent(input, from);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(field);
  });

  it('keeps a vector feature (an array of numbers) apart from the scalar features', () => {
    const result = validateScoringEvent({ ...good, features: { ...good.features, embedding: [0.5, -1, 2e-3] } }, from);
    expect(result.ok && result.value.vec_features).toEqual({ embedding: [0.5, -1, 2e-3] });
    expect(result.ok && result.value.num_features).toEqual({ tenure: 14 });
    // An event without vectors carries no vector map at all.
    const plain = validateScoringEvent(good, from);
    expect(plain.ok && 'vec_features' in plain.value).toBe(false);
  });

  it("keeps a multiclass prediction's class probabilities, keyed by class", () => {
    const prediction = { probabilities: { cat: 0.7, dog: 0.2, bird: 0.1 } };
    const result = validateScoringEvent({ ...good, prediction }, from);
    expect(result.ok && result.value.prediction_probabilities).toEqual(prediction.probabilities);
    // The fast path takes it too (epoch milliseconds: an ISO timestamp always defers to zod).
    expect(scoringEventContract.accepts({ ...good, timestamp: 1_764_158_400_000, prediction })).toBe(true);
    const plain = validateScoringEvent(good, from);
    expect(plain.ok && 'prediction_probabilities' in plain.value).toBe(false);
  });

  it.each([
    [{ cat: 0.7, dog: 0.2 }, 'must sum to 1'],
    [{ cat: 1.2, dog: -0.2 }, 'prediction.probabilities.cat'],
    [{ cat: 1 }, 'at least two classes'],
    [{ cat: 0.5, dog: 'half' }, 'prediction.probabilities.dog'],
  ])('dead-letters the probabilities %j naming %s', (probabilities, reason) => {
    expect(scoringEventContract.accepts({ ...good, prediction: { probabilities } })).toBe(false);
    const result = validateScoringEvent({ ...good, prediction: { probabilities } }, from);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('accepts epoch milliseconds', () => {
    const result = validateScoringEvent({ ...good, timestamp: 1_764_158_400_000 }, from);
    expect(result.ok && result.value.ts).toBe(1_764_158_400_000);
  });

  it('says a missing timestamp is missing, not merely invalid', () => {
    const { timestamp: _, ...withoutTimestamp } = good;
    const result = validateScoringEvent(withoutTimestamp, from);
    expect(!result.ok && result.reason).toBe('timestamp: required: the field is missing');
  });
});

describe('label contract', () => {
  it('keeps booleans and numbers numerically too', () => {
    const a = validateLabel({ event_id: 'e1', label: true, timestamp: 0 }, from);
    expect(a.ok && a.value).toMatchObject({ label: 'true', label_numeric: 1 });
    const b = validateLabel({ event_id: 'e1', label: 'churn', timestamp: 0 }, from);
    expect(b.ok && b.value).toMatchObject({ label: 'churn', label_numeric: null });
  });

  it('refuses an overflowing numeric label and an event_id with control characters', () => {
    const overflow = validateLabel({ event_id: 'e1', label: JSON.parse('1e999') as number, timestamp: 0 }, from);
    expect(!overflow.ok && overflow.reason).toMatch(/^label: Infinity is not a finite number/);
    const nul = validateLabel({ event_id: 'e\u0000', label: 1, timestamp: 0 }, from);
    expect(!nul.ok && nul.reason).toContain('event_id: no control characters');
  });

  it('says a missing label or timestamp is missing', () => {
    const result = validateLabel({ event_id: 'e1' }, from);
    expect(!result.ok && result.reason).toContain('label: required: the field is missing');
    expect(!result.ok && result.reason).toContain('timestamp: required: the field is missing');
  });

  it('rejects a label without event_id', () => {
    const result = validateLabel({ label: 1, timestamp: 0 }, from);
    expect(!result.ok && result.reason).toContain('event_id');
  });
});

describe('raw records', () => {
  it('turns bad JSON and empty messages into reasons', () => {
    expect(parseJsonRecord('{"a":')).toMatchObject({ ok: false, reason: expect.stringContaining('not valid JSON') });
    expect(parseJsonRecord('')).toMatchObject({ ok: false, reason: expect.stringContaining('empty') });
    expect(parseJsonRecord('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });
});

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `e${i}`,
  model_id: 'm1',
  model_version: 'v1',
  timestamp: 1_760_000_000_000 + i,
  features: { x: i, colour: 'red', gone: null },
  prediction: { score: 0.25 },
  ...extra,
});

// The fast check and the zod schema come from one field table; these compare what each accepts.
describe('the fast check in front of the zod schema', () => {
  const valid: Array<Record<string, unknown>> = [
    event(1),
    event(2, { prediction: { class: 'fraud', value: -3.5 } }),
    event(3, { prediction: { class: 7 }, subject_id: 'cust-9', metadata: { region: 'eu' }, contract_version: 1 }),
    event(4, { prediction: { class: false }, features: { b: true, s: '', n: -0.5, m: null } }),
    event(5, { model_id: 'a:b.c-d_e', prediction: { score: 1 } }),
    event(6, { features: { n: 1, embedding: [0.25, -3, 1e-7, 12] } }),
  ];
  it.each(valid.map((e, i) => [i, e]))('takes a valid event and builds exactly the row zod builds (%i)', (_i, e) => {
    expect(scoringEventContract.accepts(e)).toBe(true);
    const z = scoringEventSchema.safeParse(e);
    expect(z.success && z.data).toEqual(e);
    expect(validateScoringEvent(e, from)).toEqual({ ok: true, value: z.success && scoringEventRow(z.data, from) });
  });

  // Each mutation breaks or bends the contract; the fast check must never accept what zod rejects.
  const mutations: Array<[string, (e: Record<string, unknown>) => unknown]> = [
    ['unknown field', (e) => ({ ...e, extra: 1 })],
    ['contract_version 2', (e) => ({ ...e, contract_version: 2 })],
    ['empty event_id', (e) => ({ ...e, event_id: '' })],
    ['long event_id', (e) => ({ ...e, event_id: 'x'.repeat(129) })],
    ['bad model_id', (e) => ({ ...e, model_id: '-m' })],
    ['numeric model_version', (e) => ({ ...e, model_version: 3 })],
    ['fractional timestamp', (e) => ({ ...e, timestamp: 1.5 })],
    ['negative timestamp', (e) => ({ ...e, timestamp: -1 })],
    ['huge timestamp', (e) => ({ ...e, timestamp: 253402300800000 })],
    ['ISO timestamp', (e) => ({ ...e, timestamp: '2026-01-31T12:00:00Z' })],
    ['ISO timestamp without zone', (e) => ({ ...e, timestamp: '2026-01-31T12:00:00' })],
    ['no features', (e) => ({ ...e, features: {} })],
    ['array features', (e) => ({ ...e, features: [1, 2] })],
    ['bad feature name', (e) => ({ ...e, features: { '1x': 1 } })],
    ['__proto__ feature', (e) => ({ ...e, features: JSON.parse('{"__proto__": 1}') as unknown })],
    ['object feature', (e) => ({ ...e, features: { x: { y: 1 } } })],
    ['empty vector', (e) => ({ ...e, features: { x: [] } })],
    ['vector with a string', (e) => ({ ...e, features: { x: [1, '2'] } })],
    ['vector with null', (e) => ({ ...e, features: { x: [1, null] } })],
    ['nested vector', (e) => ({ ...e, features: { x: [[1]] } })],
    ['4097-long vector', (e) => ({ ...e, features: { x: Array(4097).fill(1) } })],
    ['long string feature', (e) => ({ ...e, features: { x: 'y'.repeat(1025) } })],
    [
      '1001 features',
      (e) => ({ ...e, features: Object.fromEntries([...Array(1001).keys()].map((i) => [`f${i}`, i])) }),
    ],
    ['empty prediction', (e) => ({ ...e, prediction: {} })],
    ['score > 1', (e) => ({ ...e, prediction: { score: 1.01 } })],
    ['unknown prediction key', (e) => ({ ...e, prediction: { score: 0.1, margin: 2 } })],
    ['empty class', (e) => ({ ...e, prediction: { class: '' } })],
    ['null value', (e) => ({ ...e, prediction: { value: null } })],
    ['empty subject_id', (e) => ({ ...e, subject_id: '' })],
    ['numeric metadata', (e) => ({ ...e, metadata: { a: 1 } })],
    ['long metadata', (e) => ({ ...e, metadata: { a: 'x'.repeat(4097) } })],
    ['NUL in event_id', (e) => ({ ...e, event_id: 'e\u00001' })],
    ['escape sequence in model_version', (e) => ({ ...e, model_version: 'v1\u001b[31m' })],
    ['C1 control in subject_id', (e) => ({ ...e, subject_id: 'cust\u0085' })],
    ['U+FFFD (invalid UTF-8 decoded) in event_id', (e) => ({ ...e, event_id: 'e\ufffd' })],
    ['DEL in a metadata key', (e) => ({ ...e, metadata: { 'k\u007f': 'v' } })],
    ['empty metadata key', (e) => ({ ...e, metadata: { '': 'v' } })],
    ['long metadata key', (e) => ({ ...e, metadata: { ['k'.repeat(129)]: 'v' } })],
    [
      '65 metadata keys',
      (e) => ({ ...e, metadata: Object.fromEntries([...Array(65).keys()].map((i) => [`k${i}`, 'v'])) }),
    ],
    [
      '100,000 metadata keys',
      (e) => ({ ...e, metadata: Object.fromEntries([...Array(100_000).keys()].map((i) => [`k${i}`, 'v'])) }),
    ],
    ['missing prediction', (e) => ({ ...e, prediction: undefined })],
    ['not an object', () => [1]],
    ['null', () => null],
  ];
  it.each(mutations)('%s: the fast check defers to zod, which decides', (_name, mutate) => {
    const input = JSON.parse(JSON.stringify(mutate(event(1)) ?? null)) as unknown;
    const fast = scoringEventContract.accepts(input);
    const z = scoringEventSchema.safeParse(input);
    if (fast) expect(z.success && z.data).toEqual(input);
    // (the ISO cases are valid for zod; the fast check only defers them)
    if (!z.success) expect(fast).toBe(false);
  });

  // What the limits refuse, with the field named; what they must keep accepting.
  it.each([
    ['NUL in event_id', { event_id: 'a\u0000b' }, 'event_id: no control characters'],
    ['U+FFFD in event_id', { event_id: 'a\ufffdb' }, 'event_id: no control characters'],
    ['newline in model_version', { model_version: 'v\n1' }, 'model_version'],
    ['C1 control in subject_id', { subject_id: 'c\u009b1' }, 'subject_id'],
    [
      '65 metadata keys',
      { metadata: Object.fromEntries([...Array(65).keys()].map((i) => [`k${i}`, 'v'])) },
      'at most 64 metadata keys',
    ],
    ['a 129-char metadata key', { metadata: { ['k'.repeat(129)]: 'v' } }, 'metadata'],
  ])('refuses %s, naming the field', (_name, extra, reason) => {
    const result = validateScoringEvent(event(1, extra), from);
    expect(!result.ok && result.reason).toContain(reason);
  });

  it('keeps accepting ids in any script, 64 metadata keys and 128-char keys', () => {
    const ok = event(1, {
      event_id: 'ereignis-ä-事件-🙂',
      subject_id: 'kunde ü',
      metadata: { ...Object.fromEntries([...Array(63).keys()].map((i) => [`k${i}`, 'v'])), ['k'.repeat(128)]: 'v' },
    });
    expect(scoringEventContract.accepts(ok)).toBe(true);
    expect(validateScoringEvent(ok, from).ok).toBe(true);
  });

  // JSON text beyond ±1.8e308 parses to ±Infinity: it must be refused by name, never stored as missing.
  it.each([
    ['{"x":1e309}', 'features', 'features.x'],
    ['{"score":0.5,"value":-1e400}', 'prediction', 'prediction.value'],
    ['{"score":1e309}', 'prediction', 'prediction.score'],
  ])('refuses the overflowing number in %s (%s) as not finite', (json, field, path) => {
    const input = { ...event(1), [field]: JSON.parse(json) as unknown };
    expect(scoringEventContract.accepts(input)).toBe(false);
    const result = validateScoringEvent(input, from);
    expect(!result.ok && result.reason).toMatch(
      new RegExp(`^${path.replace('.', '\\.')}: -?Infinity is not a finite number`),
    );
  });

  const label = (extra: Record<string, unknown> = {}) => ({ event_id: 'e1', label: 1, timestamp: 5, ...extra });
  it.each([label(), label({ label: 'churn' }), label({ label: false, contract_version: 1 }), label({ label: -0.5 })])(
    'takes a valid label and builds exactly the row zod builds (%j)',
    (l) => {
      expect(labelContract.accepts(l)).toBe(true);
      const z = labelSchema.safeParse(l);
      expect(z.success && z.data).toEqual(l);
      expect(validateLabel(l, from)).toEqual({ ok: true, value: z.success && labelRow(z.data, from) });
    },
  );

  it.each([
    label({ extra: 1 }),
    label({ event_id: '' }),
    label({ label: '' }),
    label({ label: 'x'.repeat(257) }),
    label({ label: null }),
    label({ label: { a: 1 } }),
    label({ timestamp: -1 }),
    label({ timestamp: '2026-01-31T12:00:00Z' }),
    label({ contract_version: 2 }),
    { label: 1, timestamp: 5 },
  ])('a label the fast check does not take goes to zod (%j)', (l) => {
    const z = labelSchema.safeParse(l);
    expect(labelContract.accepts(l)).toBe(false);
    if (z.success) expect(validateLabel(l, from)).toEqual({ ok: true, value: labelRow(z.data, from) });
  });
});

import { describe, expect, it } from 'vitest';
import { parseJsonRecord, validateLabel, validateScoringEvent } from '../../../platform/contracts.ts';

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
    [{ ...good, features: { x: [1, 2] } }, 'features.x'],
  ])('rejects %j naming %s', (input, field) => {
    const result = validateScoringEvent(input, from);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(field);
  });

  it('accepts epoch milliseconds', () => {
    const result = validateScoringEvent({ ...good, timestamp: 1_764_158_400_000 }, from);
    expect(result.ok && result.value.ts).toBe(1_764_158_400_000);
  });
});

describe('label contract', () => {
  it('keeps booleans and numbers numerically too', () => {
    const a = validateLabel({ event_id: 'e1', label: true, timestamp: 0 }, from);
    expect(a.ok && a.value).toMatchObject({ label: 'true', label_numeric: 1 });
    const b = validateLabel({ event_id: 'e1', label: 'churn', timestamp: 0 }, from);
    expect(b.ok && b.value).toMatchObject({ label: 'churn', label_numeric: null });
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

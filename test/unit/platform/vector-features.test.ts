import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateScoringEvent, type ScoringEventRow } from '../../../platform/contracts.ts';
import { ValidationError } from '../../../platform/errors.ts';
import { detectVectorColumns, parseVectorCell, readCsv, vectorColumn } from '../../../platform/tabular.ts';
import { parseVectorSpec, vectorDeclarationIssue, vectorDeclarationOf } from '../../../platform/vector-features.ts';
import { prepareRecord } from '../../../workers/ingest/prepare-record.ts';
import { VectorDeclarations } from '../../../workers/ingest/vector-declarations.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const from = { source: 'http' as const, ref: 'test' };
const event = (features: Record<string, unknown>) => ({
  event_id: 'e1',
  model_id: 'search',
  model_version: 'v1',
  timestamp: Date.UTC(2026, 10, 1),
  features,
  prediction: { score: 0.5 },
});
const rowOf = (features: Record<string, unknown>): ScoringEventRow => {
  const v = validateScoringEvent(event(features), from);
  if (!v.ok) throw new Error(v.reason);
  return v.value;
};
const declared = new Map([['embedding', 4]]);

describe('a model declares its vector features', () => {
  it('reads name:dimension, and refuses what is not one, saying how to write it', () => {
    expect(parseVectorSpec('embedding:32')).toEqual(['embedding', 32]);
    expect(() => parseVectorSpec('embedding')).toThrow(/write name:dimension, e.g. embedding:32/);
    expect(() => parseVectorSpec('1x:3')).toThrow(ValidationError);
    expect(() => parseVectorSpec('e:0')).toThrow(/dimension 0 must be a whole number from 1 to 4096/);
    expect(() => parseVectorSpec('e:5000')).toThrow(/from 1 to 4096/);
    expect(() => vectorDeclarationOf({ 'a b': 3 })).toThrow(/vector feature "a b"/);
    expect([...vectorDeclarationOf({ e: 3, f: 8 })]).toEqual([
      ['e', 3],
      ['f', 8],
    ]);
  });

  it('an event matching the declaration passes; one without vectors passes too', () => {
    expect(vectorDeclarationIssue(rowOf({ embedding: [1, 2, 3, 4], x: 1 }), declared)).toBeUndefined();
    expect(vectorDeclarationIssue(rowOf({ x: 1, embedding: null }), declared)).toBeUndefined();
    expect(vectorDeclarationIssue(rowOf({ x: 1 }), undefined)).toBeUndefined();
  });

  it('a vector of the wrong length names the feature, the expected and found dimension and the fix', () => {
    const issue = vectorDeclarationIssue(rowOf({ embedding: [1, 2, 3] }), declared);
    expect(issue?.path).toBe('features.embedding');
    expect(issue?.message).toContain(
      'vector feature embedding of model search has dimension 4, this one has 3 numbers',
    );
    expect(issue?.message).toContain('send exactly 4');
    expect(issue?.message).toContain('halflife models register search --vector embedding:3');
  });

  it('an undeclared vector, and a scalar where a vector is declared, are refused with the fix', () => {
    const undeclared = vectorDeclarationIssue(rowOf({ other: [1, 2] }), declared);
    expect(undeclared?.message).toContain('declares no vector feature other');
    expect(undeclared?.message).toContain('--vector other:2');
    expect(vectorDeclarationIssue(rowOf({ other: [1, 2] }), undefined)?.path).toBe('features.other');
    const scalar = vectorDeclarationIssue(rowOf({ embedding: 0.5 }), declared);
    expect(scalar?.message).toContain('has dimension 4, this one is a single number: send an array of 4 numbers');
  });

  it('ingest dead-letters a mismatched vector with that reason, keeping the payload whole', () => {
    const body = event({ embedding: [1, 2, 3] });
    const raw = Buffer.from(JSON.stringify(body));
    const record = {
      source: 'http' as const,
      topic: '',
      partition: -1,
      offset: '-1',
      key: null,
      value: raw,
      ref: 'r',
      parsed: { value: body },
    };
    const lookup = (model: string) => (model === 'search' ? declared : undefined);
    const dead = prepareRecord(record, 'events', { vectors: lookup, now: Date.UTC(2026, 10, 1) });
    expect(dead.kind).toBe('dead');
    if (dead.kind !== 'dead') return;
    expect(dead.row.reason).toMatch(/^features\.embedding: vector feature embedding of model search has dimension 4/);
    expect(dead.row.error_path).toBe('features.embedding');
    expect(dead.row.payload).toBe(raw.toString('utf8'));
    expect(dead.row.model_id).toBe('search');
    const fine = prepareRecord({ ...record, parsed: { value: event({ embedding: [1, 2, 3, 4] }) } }, 'events', {
      vectors: lookup,
      now: Date.UTC(2026, 10, 1),
    });
    expect(fine.kind === 'event' && fine.row.vec_features).toEqual({ embedding: [1, 2, 3, 4] });
  });

  it("ingest's copy of the declarations is re-read when old, and kept when a re-read fails", async () => {
    let reads = 0;
    let fail = false;
    const copy = new VectorDeclarations(async () => {
      reads++;
      if (fail) throw new Error('store down');
      return new Map([['m', new Map([['e', reads]])]]);
    }, 1000);
    await copy.fresh(0);
    await copy.fresh(400);
    expect(reads).toBe(1);
    expect(copy.lookup('m')?.get('e')).toBe(1);
    await copy.fresh(1500);
    expect(copy.lookup('m')?.get('e')).toBe(2);
    fail = true;
    await copy.fresh(3000);
    expect(copy.lookup('m')?.get('e')).toBe(2);
  });

  it('from half its age the copy is re-read without the caller waiting; past its age the caller waits', async () => {
    let release: () => void = () => undefined;
    let reads = 0;
    const copy = new VectorDeclarations(async () => {
      reads++;
      if (reads > 1) await new Promise<void>((resolve) => (release = resolve));
      return new Map([['m', new Map([['e', reads]])]]);
    }, 1000);
    await copy.fresh(0);
    // Half-way: a re-read starts, the caller goes on with the copy it has.
    await copy.fresh(600);
    expect(reads).toBe(2);
    expect(copy.lookup('m')?.get('e')).toBe(1);
    // Too old: this caller waits for that same re-read.
    let waited = false;
    const late = copy.fresh(1100).then(() => (waited = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toBe(false);
    release();
    await late;
    expect(reads).toBe(2);
    expect(copy.lookup('m')?.get('e')).toBe(2);
    const never = new VectorDeclarations(async () => {
      throw new Error('store down');
    });
    await expect(never.fresh(0)).rejects.toThrow('store down');
  });
});

describe('vector columns in files', () => {
  const csv = (text: string) => {
    const file = path.join(tempDir('halflife-vec-'), 'f.csv');
    writeFileSync(file, text);
    return readCsv(file);
  };

  it('reads JSON arrays in CSV cells (and a Parquet list column as its JSON text) as vectors', async () => {
    const table = await csv('x,emb,label\n1,"[0.5, -1, 2]",a\n2,,b\n3,"[1,2,3]",c\n');
    expect([...detectVectorColumns([table], table.columns)]).toEqual([['emb', 3]]);
    expect(vectorColumn(table, 'emb')).toEqual([[0.5, -1, 2], null, [1, 2, 3]]);
    expect(parseVectorCell('["1","2"]')).toEqual([1, 2]);
    expect(parseVectorCell('[1,"x"]')).toBeNull();
    expect(parseVectorCell('[]')).toBeNull();
  });

  it('refuses a vector column whose rows differ in length, naming file, line, column and both dimensions', async () => {
    const table = await csv('x,emb\n1,"[1,2,3]"\n2,"[1,2]"\n');
    expect(() => detectVectorColumns([table], table.columns)).toThrow(
      /line 3: column "emb": a vector of 2 numbers where earlier rows have 3/,
    );
  });
});

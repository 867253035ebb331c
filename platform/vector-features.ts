/**
 * Vector features (embeddings): what a model declares — each vector feature's name and exact
 * dimension — and the check of an event's vectors against that declaration. The contract
 * (contracts.ts) accepts any non-empty array of finite numbers; the declaration, stored per
 * model (platform/clickhouse/vector-features-repository.ts), says how long each must be.
 */
import type { ScoringEventRow } from './contracts.ts';
import { CONTRACT_LIMITS } from './contracts.ts';
import { ValidationError, type ValidationIssue } from './errors.ts';

/** A model's vector features: name → dimension. */
export type VectorDeclaration = ReadonlyMap<string, number>;

/** The declarations of the model, or undefined when it declares none. */
export type VectorDeclarationLookup = (modelId: string) => VectorDeclaration | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** `name:dimension` (as `--vector emb:32` says it) → [name, dimension]; throws ValidationError naming the fix. */
export function parseVectorSpec(spec: string): [string, number] {
  const match = /^([^:]+):(\d+)$/.exec(spec.trim());
  const name = match?.[1] ?? '';
  const dimension = Number(match?.[2]);
  if (!match || !NAME.test(name))
    throw new ValidationError(
      `vector feature "${spec}": write name:dimension, e.g. embedding:32 (names start with a letter or _ and use letters, digits, _ . -)`,
    );
  checkDimension(name, dimension);
  return [name, dimension];
}

/** Throws ValidationError unless 1 ≤ dimension ≤ the contract's limit. */
export function checkDimension(name: string, dimension: number): void {
  if (!Number.isSafeInteger(dimension) || dimension < 1 || dimension > CONTRACT_LIMITS.vectorDimension)
    throw new ValidationError(
      `vector feature ${name}: dimension ${dimension} must be a whole number from 1 to ${CONTRACT_LIMITS.vectorDimension}`,
    );
}

/** Validated declarations from a plain object (API body, policy): name → dimension. */
export function vectorDeclarationOf(features: Record<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, dimension] of Object.entries(features)) {
    if (!NAME.test(name))
      throw new ValidationError(
        `vector feature "${name}": names start with a letter or _ and use letters, digits, _ . - (at most 128)`,
      );
    checkDimension(name, dimension);
    out.set(name, dimension);
  }
  return out;
}

const how = (modelId: string, name: string, dimension: number) =>
  `halflife models register ${modelId} --vector ${name}:${dimension}`;

/**
 * The first way an event's features disagree with its model's declared vectors: a vector of
 * another length, a vector the model does not declare, or a scalar where a vector is declared.
 * Undefined when they agree (and always when the model declares none and sends none).
 */
export function vectorDeclarationIssue(
  row: Pick<ScoringEventRow, 'model_id' | 'num_features' | 'cat_features' | 'vec_features'>,
  declared: VectorDeclaration | undefined,
): ValidationIssue | undefined {
  const vectors = row.vec_features;
  if (vectors)
    for (const name in vectors) {
      const found = (vectors[name] as number[]).length;
      const expected = declared?.get(name);
      if (expected === undefined)
        return {
          path: `features.${name}`,
          message: `a vector of ${found} numbers, but model ${row.model_id} declares no vector feature ${name}: declare it first (${how(row.model_id, name, found)}), or send a number or a category`,
        };
      if (found !== expected)
        return {
          path: `features.${name}`,
          message: `vector feature ${name} of model ${row.model_id} has dimension ${expected}, this one has ${found} numbers: send exactly ${expected} (or, if the model changed, declare the new dimension: ${how(row.model_id, name, found)})`,
        };
    }
  if (declared)
    for (const [name, expected] of declared) {
      const scalar = row.num_features[name] ?? row.cat_features[name];
      if (scalar !== undefined)
        return {
          path: `features.${name}`,
          message: `vector feature ${name} of model ${row.model_id} has dimension ${expected}, this one is a single ${typeof scalar === 'number' ? 'number' : 'value'}: send an array of ${expected} numbers (null when missing)`,
        };
    }
  return undefined;
}

/** What a model of a declared kind outputs, as the ONNX runtime checks and reads it. */
import type { ModelKindDeclaration } from '../clickhouse/model-kind-repository.ts';
import type { ModelOutput } from '../onnx/pool.ts';

export function modelOutputOf(kind: ModelKindDeclaration): ModelOutput {
  return kind.kind === 'multiclass' ? { kind: 'multiclass', classes: kind.classes.length } : { kind: kind.kind };
}

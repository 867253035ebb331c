/** ONNX: writing models (protobuf wire format), the serving input contract, and runner threads. */
export { encodeModel, OnnxType, ONNX_IR_VERSION } from './model-builder.ts';
export type { Attribute, GraphNode, ModelSpec, Tensor, ValueInfo } from './model-builder.ts';
export { encodeBatch, numericValue, categoricalValue } from './features.ts';
export type { EncodedBatch, FeatureNames, RawFeatures } from './features.ts';
export { OnnxPool, OnnxModelError, outputWidth } from './pool.ts';
export type { LoadedModelInfo, ModelOutput, OnnxPoolOptions, RunResult } from './pool.ts';
export { loadModelRunner, runnerKey } from './runner.ts';
export type { ModelRef, ModelRunner } from './runner.ts';

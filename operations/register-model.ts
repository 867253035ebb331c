/**
 * Register a model version that halflife did not train: an ONNX artifact (its sha256 recorded,
 * its inputs checked against the reference data and loaded once to prove it can be served), or
 * no artifact at all for a monitor-only model that is served elsewhere and whose events arrive
 * with their version. Its reference (the data a window is compared with) comes from a file
 * (CSV or Parquet) or from a window of stored events, and is stored for the version: the
 * version's monitor compares against it instead of against its first window. The version's
 * lineage is its registration: created by, and (with `stage: production`) promoted by, the
 * person who registered it.
 *
 * Production here is the registry's record only: nothing is published to serving (the model is
 * served where it already runs; `halflife models promote` publishes to halflife's scorer).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_BIN_COUNT } from '../detectors/drift/bins.ts';
import { capCategories, DEFAULT_MAX_CATEGORIES } from '../detectors/drift/categories.ts';
import type { FeatureKind } from '../detectors/drift/feature-result.ts';
import { categoricalProfile, numericReferenceProfile } from '../detectors/drift/profiles.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { storeReference, type StoredReference } from '../platform/clickhouse/reference-repository.ts';
import type { RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { checkedTimeWindow } from '../platform/clickhouse/time-window.ts';
import { ValidationError } from '../platform/errors.ts';
import type { FeatureNames } from '../platform/onnx/features.ts';
import { describeOnnx, type OnnxModelDescription } from '../platform/onnx/model-reader.ts';
import { OnnxPool } from '../platform/onnx/pool.ts';
import { sha256Hex, type ArtifactStore } from '../platform/registry/artifact-store.ts';
import type { ModelVersion } from '../platform/registry/types.ts';
import { DECISION_THRESHOLD_PARAM, isDecisionThreshold } from '../platform/registry/decision-threshold.ts';
import { categoricalColumn, detectKinds, numericColumn, readCsv, type RawTable } from '../platform/tabular.ts';
import { declareVectorFeatures } from '../platform/clickhouse/vector-features-repository.ts';
import { declareModelKind, type ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import { kindDeclarationProblem } from '../detectors/quality/quality-metric.ts';
import { vectorDeclarationOf } from '../platform/vector-features.ts';
import { buildReference } from './build-reference.ts';
import { isParquet, readParquet } from './parquet-table.ts';

export interface RegisterModelContext {
  clickhouse: ClickHouseClient;
  registry: RegistryRepository;
  artifacts: ArtifactStore;
}

/** Where the version's reference comes from: a table read from a file, or stored events of the model. */
export type ReferenceSource =
  | {
      kind: 'file';
      table: RawTable;
      /** Columns read as categories whatever their cells. @default [] */ categorical?: string[];
    }
  | { kind: 'window'; start: number; end: number };

export interface RegisterModelInput {
  modelId: string;
  /** The version's name (v1, v2, …). @default the next one */
  version?: string;
  /** ONNX bytes; absent for a monitor-only model (served elsewhere). */
  artifact?: { bytes: Uint8Array; name: string };
  reference?: ReferenceSource;
  /** @default 'candidate' */
  stage?: 'candidate' | 'production';
  /** The score at or above which the version predicts positive (label-free accuracy is estimated at it). @default none recorded (0.5 assumed) */
  decisionThreshold?: number;
  /**
   * The model's vector features (embeddings) and their exact dimension: declared for the model
   * (every version), so ingest checks each event's vectors and the multivariate tests read them.
   * @default none declared (earlier declarations stay)
   */
  vectorFeatures?: Record<string, number>;
  /**
   * What kind of model this is, declared for the model (every version): binary (a score per
   * event), multiclass with its classes in order (events carry `prediction.probabilities` over
   * them), or regression (`prediction.value`). The monitor's metrics follow it.
   * @default none declared (a model without a declaration is binary; an earlier declaration stays)
   */
  kind?: ModelKindDeclaration;
  actor: string;
  /** @default 'registered by <actor>' */
  reason?: string;
}

export interface RegisterModelResult {
  version: ModelVersion;
  /** The stored reference of the version, when one was given. */
  referenceId: string | null;
  /** How the artifact takes its inputs; null without one. */
  convention: 'packed' | 'per-column' | null;
  monitorOnly: boolean;
  /** The production version this one replaced (archived), when registered as production. */
  previousProduction: string | null;
}

/** Columns of the reference and their kinds, whichever source it came from. */
type ReferenceColumns = Map<string, FeatureKind>;

export async function registerModel(
  ctx: RegisterModelContext,
  input: RegisterModelInput,
): Promise<RegisterModelResult> {
  const stage = input.stage ?? 'candidate';
  if (input.decisionThreshold !== undefined && !isDecisionThreshold(input.decisionThreshold))
    throw new ValidationError(
      `decision threshold ${input.decisionThreshold} must be a number between 0 and 1 (the score at or above which the model predicts positive), e.g. 0.65`,
    );
  const reason = input.reason ?? `registered by ${input.actor}`;
  const vectorFeatures = vectorDeclarationOf(input.vectorFeatures ?? {});
  if (input.kind) {
    const problem = kindDeclarationProblem(input.kind.kind, input.kind.kind === 'multiclass' ? input.kind.classes : []);
    if (problem) throw new ValidationError(problem);
  }
  // 1. The reference: its columns, and (from stored events) the stored reference itself.
  let fileReference: { table: RawTable; kinds: ReferenceColumns } | null = null;
  let windowReference: StoredReference | null = null;
  if (input.reference?.kind === 'file') {
    const { table } = input.reference;
    if (table.lines.length === 0) throw new ValidationError(`${table.file}: the reference has no rows`);
    fileReference = { table, kinds: detectKinds([table], table.columns, { categorical: input.reference.categorical }) };
  } else if (input.reference?.kind === 'window') {
    const window = checkedTimeWindow(input.reference.start, input.reference.end);
    windowReference = await buildReference(ctx.clickhouse, { modelId: input.modelId, ...window });
  }
  const referenceColumns: ReferenceColumns | null =
    fileReference?.kinds ??
    (windowReference
      ? new Map(Object.entries(windowReference.features).map(([name, p]) => [name, p.kind as FeatureKind]))
      : null);

  // 2. The artifact: its inputs against the reference, then loaded once (a dry run) to prove it serves.
  let features: FeatureNames;
  let convention: RegisterModelResult['convention'] = null;
  let artifactUri = '';
  let sha256 = '';
  if (input.artifact) {
    const described = describeOnnx(input.artifact.bytes);
    const schema = modelFeatures(described, input.artifact.name);
    convention = schema.convention;
    features = schema.features;
    if (referenceColumns) checkAgainstReference(schema, referenceColumns, input.artifact.name);
    await provesServable(input.artifact, features);
    sha256 = sha256Hex(input.artifact.bytes);
    artifactUri = (await ctx.artifacts.put(`models/${input.modelId}/registered/${sha256}.onnx`, input.artifact.bytes))
      .uri;
  } else {
    // Monitor-only: the features are the reference's columns (none without a reference).
    features = { numeric: [], categorical: [] };
    for (const [name, kind] of referenceColumns ?? []) features[kind].push(name);
  }

  // 3. The reference (a file's, stored now), then the version that names it.
  let referenceId: string | null = windowReference?.referenceId ?? null;
  if (fileReference) {
    const reference = referenceFromTable(input.modelId, input.version ?? '', fileReference.table, fileReference.kinds);
    await storeReference(ctx.clickhouse, reference);
    referenceId = reference.referenceId;
  }
  const version = await ctx.registry.registerVersion({
    modelId: input.modelId,
    ...(input.version ? { version: input.version } : {}),
    artifactUri,
    sha256,
    trainer: input.artifact ? 'import:onnx' : 'external',
    params: {
      registered: true,
      monitorOnly: !input.artifact,
      ...(input.artifact ? { artifactName: input.artifact.name, convention } : {}),
      ...(referenceId ? { referenceId } : {}),
      ...(input.decisionThreshold === undefined ? {} : { [DECISION_THRESHOLD_PARAM]: input.decisionThreshold }),
      ...(vectorFeatures.size > 0 ? { vectorFeatures: Object.fromEntries(vectorFeatures) } : {}),
      ...(input.kind
        ? { kind: input.kind.kind, ...(input.kind.kind === 'multiclass' ? { classes: input.kind.classes } : {}) }
        : {}),
    },
    features,
    codeVersion: 'external',
    createdBy: input.actor,
  });

  await declareVectorFeatures(ctx.clickhouse, input.modelId, vectorFeatures, input.actor);
  if (input.kind) await declareModelKind(ctx.clickhouse, input.modelId, input.kind, input.actor);

  let previousProduction: string | null = null;
  if (stage === 'production') {
    previousProduction = (await ctx.registry.productionVersion(input.modelId))?.version ?? null;
    await ctx.registry.setStage(input.modelId, version.version, 'production', input.actor, reason);
  }
  const stored = await ctx.registry.requireVersion(input.modelId, version.version);
  return { version: stored, referenceId, convention, monitorOnly: !input.artifact, previousProduction };
}

/** A reference file as a table: Parquet (read by the embedded engine) or CSV, by its extension. */
export function readReferenceFile(client: ClickHouseClient, file: string): Promise<RawTable> {
  return isParquet(file) ? readParquet({ client }, file) : readCsv(file);
}

/** How {@link registeredReference} reads a version and a stored reference (a monitor's are coalesced and cached). */
export interface RegisteredReferenceReads {
  version: (modelId: string, version: string) => Promise<ModelVersion | null>;
  /** Throws NotFoundError when the reference is not stored. */
  reference: (referenceId: string) => Promise<StoredReference>;
}

/**
 * The reference registered for a version (RegisterModelResult.referenceId, kept in the version's
 * params), or null: what a monitor compares the version's windows with instead of its first window.
 */
export async function registeredReference(
  read: RegisteredReferenceReads,
  modelId: string,
  version: string,
): Promise<StoredReference | null> {
  const v = await read.version(modelId, version);
  const id = v?.params.referenceId;
  return typeof id === 'string' && id !== '' ? read.reference(id) : null;
}

/** The model's features from its inputs: the packed convention names them in metadata, per-column inputs are the names. */
function modelFeatures(
  model: OnnxModelDescription,
  file: string,
): { features: FeatureNames; convention: 'packed' | 'per-column'; types: Map<string, string> } {
  const names = model.inputs.map((i) => i.name);
  if (names.length === 0) throw new ValidationError(`${file}: the model has no inputs`);
  if (names.every((n) => n === 'numeric' || n === 'categorical')) {
    const declared = model.metadata['halflife.features'];
    if (!declared)
      throw new ValidationError(
        `${file}: the model takes packed inputs (${names.join(', ')}) but has no 'halflife.features' metadata naming their columns: add it (docs/trainers.md) or export one [N, 1] input per feature, named after it`,
      );
    let features: FeatureNames;
    try {
      const parsed = JSON.parse(declared) as Partial<FeatureNames>;
      features = { numeric: [...(parsed.numeric ?? [])], categorical: [...(parsed.categorical ?? [])] };
    } catch {
      throw new ValidationError(
        `${file}: its 'halflife.features' metadata is not JSON {"numeric": […], "categorical": […]}`,
      );
    }
    const types = new Map<string, string>();
    for (const n of features.numeric) types.set(n, model.inputs.find((i) => i.name === 'numeric')?.elementType ?? '?');
    for (const n of features.categorical)
      types.set(n, model.inputs.find((i) => i.name === 'categorical')?.elementType ?? '?');
    return { features, convention: 'packed', types };
  }
  const features: FeatureNames = { numeric: [], categorical: [] };
  const types = new Map<string, string>();
  const unsupported: string[] = [];
  for (const i of model.inputs) {
    types.set(i.name, i.elementType);
    if (i.elementType === 'float') features.numeric.push(i.name);
    else if (i.elementType === 'string') features.categorical.push(i.name);
    else unsupported.push(`${i.name} (${i.elementType})`);
  }
  if (unsupported.length > 0)
    throw new ValidationError(
      `${file}: inputs ${unsupported.join(', ')} are neither float (a numeric feature) nor string (a categorical one); export them as float32 or string [N, 1] tensors`,
    );
  return { features, convention: 'per-column', types };
}

/** Every model input must be a reference column of the same kind; one error lists every mismatch. */
function checkAgainstReference(
  schema: ReturnType<typeof modelFeatures>,
  columns: ReferenceColumns,
  file: string,
): void {
  const problems: string[] = [];
  const check = (name: string, kind: FeatureKind) => {
    const found = columns.get(name);
    const type = schema.types.get(name);
    if (found === undefined) problems.push(`input "${name}" (${type}) is not a column of the reference`);
    else if (found !== kind)
      problems.push(`input "${name}" is ${kind} (${type}) but the reference column "${name}" is ${found}`);
  };
  for (const n of schema.features.numeric) check(n, 'numeric');
  for (const n of schema.features.categorical) check(n, 'categorical');
  if (problems.length > 0)
    throw new ValidationError(
      `${file} does not match its reference: ${problems.join('; ')} (reference columns: ${[...columns]
        .map(([n, k]) => `${n} ${k}`)
        .join(', ')})`,
    );
}

/** Load the model in an ONNX runner and score one row: what serving it would do first. */
async function provesServable(artifact: { bytes: Uint8Array; name: string }, features: FeatureNames): Promise<void> {
  const pool = new OnnxPool({ threads: 1 });
  try {
    await pool.load('registration', artifact.bytes, features);
  } catch (err) {
    throw new ValidationError(`${artifact.name}: cannot be served: ${(err as Error).message}`);
  } finally {
    await pool.close();
  }
}

/** A reference from a table in memory (the in-process twin of build-reference.ts: same cuts, counts and moments). */
function referenceFromTable(
  modelId: string,
  version: string,
  table: RawTable,
  kinds: ReferenceColumns,
): StoredReference {
  const features: StoredReference['features'] = {};
  const cappedCategorical: string[] = [];
  for (const name of [...table.columns].sort()) {
    if (kinds.get(name) === 'numeric')
      features[name] = numericReferenceProfile(numericColumn(table, name), DEFAULT_BIN_COUNT);
    else {
      const capped = capCategories(categoricalProfile(categoricalColumn(table, name)), DEFAULT_MAX_CATEGORIES);
      features[name] = capped.profile;
      if (capped.capped) cappedCategorical.push(name);
    }
  }
  const digest = createHash('sha256');
  digest.update(JSON.stringify([modelId, version, table.columns]));
  for (const column of table.cells) for (const cell of column) digest.update(`${cell}\u0000`);
  const now = Date.now();
  return {
    referenceId: `ref_${digest.digest('hex').slice(0, 20)}`,
    modelId,
    modelVersion: version,
    createdAt: now,
    start: now,
    end: now,
    nBins: DEFAULT_BIN_COUNT,
    maxCategories: DEFAULT_MAX_CATEGORIES,
    features,
    prediction: null,
    predictionClass: null,
    predictionValue: null,
    cappedCategorical,
    rowCount: table.lines.length,
  };
}

/**
 * The `kind` input of {@link registerModel} from a request's or command's kind and classes; empty
 * when neither is given. Throws ValidationError naming the fix for classes without a multiclass kind.
 */
export function modelKindInput(
  kind: string | undefined,
  classes: readonly string[] | undefined,
): { kind?: ModelKindDeclaration } {
  if (kind === undefined) {
    if (classes && classes.length > 0)
      throw new ValidationError('classes are given without a kind: add kind multiclass (--kind multiclass)');
    return {};
  }
  const list = [...(classes ?? [])];
  const problem = kindDeclarationProblem(kind, list);
  if (problem) throw new ValidationError(problem);
  if (kind === 'multiclass') return { kind: { kind, classes: list } };
  return { kind: kind === 'regression' ? { kind } : { kind: 'binary' } };
}

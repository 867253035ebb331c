/**
 * How shadow scores are kept apart from production metrics: the scorer emits a shadow model's
 * score as a scoring event of the model id `<model>.shadow` (same event id, so labels join it;
 * metadata `shadow=true`, `shadow_of=<model>`). Every quality and drift statistic of `<model>`
 * therefore sees production scores only, while shadow evaluation can pair the two by event id.
 */
export const SHADOW_SUFFIX = '.shadow';

export function shadowModelId(modelId: string): string {
  return `${modelId}${SHADOW_SUFFIX}`;
}

export function isShadowModelId(modelId: string): boolean {
  return modelId.endsWith(SHADOW_SUFFIX);
}

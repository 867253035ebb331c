/**
 * The live shadow of a retrain: the challenger is published in shadow beside the production
 * champion, so the scorer scores every request with both (the challenger's events under
 * `<model>.shadow`, platform/registry/shadow.ts), and the workflow counts the labelled pairs
 * until there are enough for the verdict (activities/shadow.ts, source 'prefer-live'). The
 * shadow ends with the verdict: a rejected challenger is taken out of serving
 * (operations/reject-version.ts), a promoted one's routing replaces it.
 */
import { publishModelUpdate } from '../operations/publish-model-update.ts';
import { livePairCount, type LivePairCounts } from '../platform/clickhouse/shadow-outcome-repository.ts';
import { shadowModelId } from '../platform/registry/shadow.ts';
import { ms, nonRetryable, type RetrainContext } from './retrain-context.ts';

export interface StartLiveShadowInput {
  retrainId: string;
  modelId: string;
  candidateVersion: string;
  championVersion: string;
}

export interface StartLiveShadowResult {
  /** False when the champion is not a production version halflife serves (the retrain replays instead). */
  started: boolean;
  reason: string;
}

export interface LiveShadowPairsInput {
  modelId: string;
  candidateVersion: string;
  championVersion: string;
  window: { start: number | string; end: number | string };
}

export function createLiveShadowActivities(ctx: RetrainContext) {
  return {
    /** Publish the challenger in shadow beside the champion (all live traffic stays on the champion). Idempotent by retrain id. */
    async startLiveShadow(input: StartLiveShadowInput): Promise<StartLiveShadowResult> {
      const champion = await ctx.registry.getVersion(input.modelId, input.championVersion);
      if (!champion || champion.stage !== 'production' || !champion.artifactUri)
        return {
          started: false,
          reason: `champion ${input.championVersion} is not the production version halflife serves (${champion ? `stage ${champion.stage}` : 'not in the registry'}): no live shadow, the verdict replays stored events`,
        };
      const candidate = await ctx.registry.requireVersion(input.modelId, input.candidateVersion).catch((e: Error) => {
        throw nonRetryable('ValidationError', e.message);
      });
      await publishModelUpdate(ctx, {
        modelId: input.modelId,
        version: candidate.version,
        artifactUri: candidate.artifactUri,
        sha256: candidate.sha256,
        trafficSplit: { [champion.version]: 1 },
        shadowVersions: [candidate.version],
        reason: `live shadow: ${candidate.version} scores every request beside ${champion.version}`,
        idempotencyKey: `${input.retrainId}/live-shadow`,
      });
      return {
        started: true,
        reason: `${candidate.version} scores every request in shadow beside ${champion.version}`,
      };
    },

    /** Labelled pairs of the champion's production events and the challenger's shadow events in the window, and their scorer runs per side. */
    async liveShadowPairs(input: LiveShadowPairsInput): Promise<LivePairCounts> {
      const candidate = await ctx.registry.requireVersion(input.modelId, input.candidateVersion).catch((e: Error) => {
        throw nonRetryable('ValidationError', e.message);
      });
      return livePairCount(ctx.clickhouse, {
        modelId: input.modelId,
        shadowModelId: shadowModelId(input.modelId),
        championVersion: input.championVersion,
        candidateVersion: input.candidateVersion,
        window: { start: ms(input.window.start), end: ms(input.window.end) },
        trainingSnapshotId: candidate.lineageId,
      });
    },
  };
}

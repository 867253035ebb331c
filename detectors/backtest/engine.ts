/**
 * `runBacktest`: a binary model's labelled scoring history replayed through the monitor's tick
 * (replay.ts) with the binary kind (binary-kind.ts): scores, accuracy or AUC, CBPE, probes.
 */
import { binaryKind } from './binary-kind.ts';
import { replayHistory } from './replay.ts';
import type { BacktestOptions, BacktestReport } from './types.ts';

export function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  return replayHistory(options, (context) =>
    binaryKind(context, {
      policy: options.policy,
      trainer: options.trainer,
      decisionThreshold: options.decisionThreshold ?? null,
    }),
  );
}

/**
 * `runOutcomeBacktest`: a multiclass or regression history replayed through the monitor's tick
 * (replay.ts, as the binary backtest) with the outcome kind (outcome-kind.ts): windows summed as
 * the monitor sums them, the policy's metric as quality, CBPE or DLE for the label-free estimate,
 * the built-in multinomial logistic or ridge regression as trainer. The report has the binary
 * backtest's shape.
 */
import { outcomeKind } from './outcome-kind.ts';
import type { OutcomeBacktestOptions } from './outcome-types.ts';
import { replayHistory } from './replay.ts';
import type { BacktestReport } from './types.ts';

export function runOutcomeBacktest(options: OutcomeBacktestOptions): Promise<BacktestReport> {
  return replayHistory(options, (context) =>
    outcomeKind(context, { kind: options.kind, policy: options.policy, trainer: options.trainer }),
  );
}

/**
 * The promotion decision from the improvement's interval against the bar, shared by the binary
 * verdict (verdict.ts) and the loss verdict of multiclass and regression models (loss-verdict.ts):
 * reject when the whole interval is below the bar, inconclusive when it reaches below it (or when
 * McNemar does not confirm an accuracy gain a superiority test asks for), else promote.
 */
import type { GuardrailResult } from './guardrails.ts';
import type { McNemarResult } from './mcnemar.ts';
import type { PromotionDecision } from './verdict.ts';

/** A figure as decision reasons write it. */
export const formatFigure = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(4) : x.toExponential(2));

export interface IntervalDecisionInput {
  improvement: { lower: number; upper: number };
  /** The improvement the interval must clear: the minimum improvement, or −margin. */
  bar: number;
  test: 'superiority' | 'non-inferiority';
  margin: number;
  level: number;
  /** Whether the metric is accuracy (McNemar confirms a superiority gain). */
  accuracy: boolean;
  mcnemar: McNemarResult | null;
  /** Guardrails that could not be evaluated: said, never blocking. */
  notEvaluated: readonly string[];
}

/**
 * What every verdict decides before looking at the interval: a failed guardrail rejects, too few
 * paired events (or no interval) is inconclusive; null when the interval decides. Reasons are
 * appended to `reasons`.
 */
export function decideBeforeInterval(
  input: { guardrails: GuardrailResult; n: number; minEvents: number },
  reasons: string[],
): PromotionDecision | null {
  if (input.guardrails.violations.length > 0) {
    reasons.push(...input.guardrails.violations.map((v) => `guardrail failed: ${v}`));
    return 'reject';
  }
  if (input.n < input.minEvents) {
    reasons.push(`only ${input.n} paired events; at least ${input.minEvents} are needed for a decision`);
    return 'inconclusive';
  }
  return null;
}

/** The decision, its reasons appended to `reasons`. */
export function decideOnInterval(input: IntervalDecisionInput, reasons: string[]): PromotionDecision {
  const fmt = formatFigure;
  const { improvement, bar, mcnemar } = input;
  const barText =
    input.test === 'superiority' ? `minimum improvement ${fmt(bar)}` : `non-inferiority margin ${fmt(input.margin)}`;
  if (improvement.upper < bar) {
    reasons.push(`the whole interval is below the ${barText}`);
    return 'reject';
  }
  if (improvement.lower <= bar) {
    reasons.push(`the interval reaches below the ${barText}: the difference is within noise; collect more events`);
    return 'inconclusive';
  }
  if (input.accuracy && input.test === 'superiority' && mcnemar) {
    const alpha = 1 - input.level;
    if (mcnemar.pValue >= alpha) {
      reasons.push(
        `McNemar p = ${fmt(mcnemar.pValue)} (${mcnemar.method}, b=${mcnemar.championOnlyCorrect}, c=${mcnemar.challengerOnlyCorrect}) does not confirm the accuracy gain at α = ${fmt(alpha)}`,
      );
      return 'inconclusive';
    }
    reasons.push(`McNemar p = ${fmt(mcnemar.pValue)} (${mcnemar.method}) confirms the accuracy gain`);
  }
  reasons.push(
    input.test === 'superiority'
      ? `the whole interval is above the ${barText}`
      : `the whole interval is above −${fmt(input.margin)}: not worse than the champion by more than the margin`,
  );
  if (input.notEvaluated.length > 0) reasons.push(...input.notEvaluated.map((g) => `guardrail not evaluated: ${g}`));
  return 'promote';
}

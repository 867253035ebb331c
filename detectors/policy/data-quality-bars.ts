/**
 * A policy's `dataQuality` bars as the detector's thresholds (detectors/drift/data-quality.ts).
 * The policy's defaults are the detector's own, taken from `DEFAULT_QUALITY_THRESHOLDS`, so the
 * two cannot disagree and a policy without the section decides as before. Pure; importable
 * from workflow code.
 */
import { DEFAULT_QUALITY_THRESHOLDS, type QualityThresholds } from '../drift/data-quality.ts';
import type { FollowUpBars } from '../drift/window-follow-ups.ts';
import type { DataQualityPolicy } from './types.ts';

/** Each policy setting and the detector threshold it sets. */
const THRESHOLD_OF: { readonly [K in keyof DataQualityPolicy]: keyof QualityThresholds } = {
  missingRateIncrease: 'missing_rate_increase',
  missingRateZ: 'missing_rate_z',
  typeViolationRate: 'type_violation_rate',
  deadLetterRate: 'dead_letter_rate',
  featureAppearedRate: 'appeared_rate',
  outOfRangeRate: 'out_of_range_rate',
  unseenCategoryRate: 'unseen_rate',
  stuckShareIncrease: 'stuck_share_increase',
  stuckShareZ: 'stuck_share_z',
  stuckMinValues: 'stuck_min_values',
  zeroVarianceMinValues: 'zero_variance_min_values',
  stuckReferenceMass: 'stuck_reference_mass',
  stuckSpreadKept: 'stuck_spread_kept',
  stuckRunsP: 'stuck_runs_p',
  stuckOthersSpread: 'stuck_others_spread',
};

const SETTINGS = Object.keys(THRESHOLD_OF) as (keyof DataQualityPolicy)[];

/** The policy's defaults: the detector's thresholds. */
export const DEFAULT_DATA_QUALITY: DataQualityPolicy = Object.fromEntries(
  SETTINGS.map((setting) => [setting, DEFAULT_QUALITY_THRESHOLDS[THRESHOLD_OF[setting]] as number]),
) as unknown as DataQualityPolicy;

/** The detector thresholds a policy's bars set (none without the section: the detector's defaults apply). */
export function qualityThresholdsOf(bars: Partial<DataQualityPolicy> | undefined): Partial<QualityThresholds> {
  if (!bars) return {};
  const out: Record<string, number> = {};
  for (const setting of SETTINGS) {
    const value = bars[setting];
    if (value !== undefined) out[THRESHOLD_OF[setting]] = value;
  }
  return out as Partial<QualityThresholds>;
}

/**
 * The follow-up bars (drift/window-follow-ups.ts) of a policy's `dataQuality`: a window read
 * counts the exact most frequent value of every feature the policy's stuck bar could flag, so a
 * lower `stuckShareIncrease` is honoured in ClickHouse as in a backtest (which counts every feature's).
 */
export function followUpBarsOf(bars: Partial<DataQualityPolicy> | undefined): FollowUpBars {
  return {
    stuckCandidateRise: (bars?.stuckShareIncrease ?? DEFAULT_DATA_QUALITY.stuckShareIncrease) / 2,
    appearedNamedRate: bars?.featureAppearedRate ?? DEFAULT_DATA_QUALITY.featureAppearedRate,
  };
}

/**
 * The bars a policy sets away from their defaults, in words ("stuckRunsP 0.001 (default 0.01)"),
 * for `halflife policy validate`; null when every bar is the default.
 */
export function changedBarsText(bars: Partial<DataQualityPolicy> | undefined): string | null {
  if (!bars) return null;
  const changed = SETTINGS.flatMap((setting) => {
    const value = bars[setting];
    return value === undefined || value === DEFAULT_DATA_QUALITY[setting]
      ? []
      : [`${setting} ${value} (default ${DEFAULT_DATA_QUALITY[setting]})`];
  });
  return changed.length > 0 ? changed.join(', ') : null;
}

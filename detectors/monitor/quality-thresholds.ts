/**
 * The data-quality thresholds a window is judged at, from the policy's bars and the monitor's rule
 * revision: one place, so the whole window, each of its segments and `halflife drift` judge
 * broken-versus-shifted alike.
 */
import type { QualityThresholds } from '../drift/data-quality.ts';
import type { MonitorSettings } from './types.ts';

/**
 * Revisions 1–2: the policy's bars alone. Revision 3 adds the evidence minimum of rows; revision 4
 * tells a grown value the reference had from a stuck one (`stuck_shift_aware`) and, with
 * `stuckValueOrder`, reads the event order (`stuck_order_aware`).
 */
export function windowQualityThresholds(
  settings: Partial<Pick<MonitorSettings, 'ruleRevision' | 'stuckValueOrder'>>,
  /** The policy's bars (policy/data-quality-bars.ts `qualityThresholdsOf`). */
  bars: Partial<QualityThresholds>,
  /** The policy's evidence minimum of rows (policy/evidence.ts `minWindowRows`), used from revision 3. */
  minWindowRows: number,
): Partial<QualityThresholds> {
  const revision = settings.ruleRevision ?? 1;
  if (revision < 3) return bars;
  return {
    ...bars,
    min_rows: minWindowRows,
    ...(revision >= 4 ? { stuck_shift_aware: true } : {}),
    ...(revision >= 4 && settings.stuckValueOrder === true ? { stuck_order_aware: true } : {}),
  };
}

/**
 * When a monitor's windows fall and what it evaluates when it wakes up late. Pure, so the
 * ModelMonitor workflow and its tests compute the same schedule.
 *
 * Staggering: every monitor of one cadence used to cut the same windows (aligned to the epoch),
 * so a fleet of N monitors came due in the same second and queued N window reads at once. Each
 * model's windows are shifted by a fixed offset within the cadence, drawn from a hash of its id:
 * the fleet's ticks spread evenly over the cadence, and a model's windows are the same on every
 * run and every machine.
 *
 * Falling behind: a monitor that wakes with several windows due (its worker was down, or
 * overloaded for longer than a cadence) evaluates them as one coalesced window rather than one
 * after another, so the work it adds is bounded by its cadence however far behind it is; windows
 * older than `maxCoalesced` cadences are skipped. Both are recorded with the decision. Windows that
 * came due while a person had the monitor paused are evaluated one by one after the resume.
 */

/** FNV-1a of `text`, scaled to [0, 1): the same on every run and every machine. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** A deterministic offset in [0, cadenceMs) for `modelId`: FNV-1a of its id, scaled to the cadence. */
export function staggerOffsetMs(modelId: string, cadenceMs: number): number {
  return Math.floor(unitHash(modelId) * cadenceMs);
}

/** Share of a run's history budget by which runs' ends are spread (see {@link runHistoryBudget}). */
export const DEFAULT_RUN_END_SPREAD = 0.5;

/**
 * The history bytes after which one run continues as new: `maxBytes` less a share in
 * [0, spread) drawn from a hash of the run's id. Monitors started together grow their histories at
 * the same pace, so with one budget all of them continued as new at the same tick: at N = 1,000 the
 * Temporal server's store was 52–86% busy for three minutes and workflow tasks waited 6–14 s (fleet
 * run M). Spread over half the budget, the ends fall over several ticks, and later runs drift apart.
 */
export function runHistoryBudget(maxBytes: number, runId: string, spread: number = DEFAULT_RUN_END_SPREAD): number {
  return Math.floor(maxBytes * (1 - spread * unitHash(runId)));
}

/** Start of the window holding `now`, for windows of `cadenceMs` shifted by `offsetMs`. */
export function windowStartAt(now: number, cadenceMs: number, offsetMs = 0): number {
  return Math.floor((now - offsetMs) / cadenceMs) * cadenceMs + offsetMs;
}

export interface WindowPlanInput {
  /** Start of the oldest window not evaluated yet. */
  nextWindowStart: number;
  cadenceMs: number;
  settleMs: number;
  now: number;
  /** Windows due at or before this time are evaluated one by one (those missed while paused). @default -Infinity */
  catchUpUntil?: number;
  /** Most cadences one coalesced window spans; older due windows are skipped. */
  maxCoalesced: number;
}

/** What to evaluate now: one window, or several due windows coalesced into one (older ones skipped). */
export interface WindowPlan {
  start: number;
  end: number;
  /** Cadences the evaluated window spans (1: an ordinary tick). */
  windows: number;
  /** Due windows left out because they were older than `maxCoalesced` cadences, or null. */
  skipped: { start: number; end: number; windows: number } | null;
}

/** Complete windows due at `now` (their end plus the settle time has passed). */
export function windowsDue(input: Pick<WindowPlanInput, 'nextWindowStart' | 'cadenceMs' | 'settleMs' | 'now'>): number {
  return Math.max(0, Math.floor((input.now - input.settleMs - input.nextWindowStart) / input.cadenceMs));
}

/** The window to evaluate now (call when at least one is due). */
export function planWindow(input: WindowPlanInput): WindowPlan {
  const { nextWindowStart: first, cadenceMs } = input;
  const due = Math.max(1, windowsDue(input));
  const oneByOne = first + cadenceMs + input.settleMs <= (input.catchUpUntil ?? Number.NEGATIVE_INFINITY);
  if (due === 1 || oneByOne) return { start: first, end: first + cadenceMs, windows: 1, skipped: null };
  const windows = Math.min(due, Math.max(1, Math.floor(input.maxCoalesced)));
  const skippedWindows = due - windows;
  const start = first + skippedWindows * cadenceMs;
  return {
    start,
    end: first + due * cadenceMs,
    windows,
    skipped: skippedWindows > 0 ? { start: first, end: start, windows: skippedWindows } : null,
  };
}

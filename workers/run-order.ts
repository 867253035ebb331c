/**
 * The order in which one batch's versions run in the scorer: the routed version and its shadow
 * versions take turns going first. Each run is timed alone (platform/onnx/run-clock.mjs), but a
 * run right after another still differs from the first one — caches warmed by it, a thread just
 * woken — so a fixed order would give one side that difference on every batch; rotating gives it
 * to each side on the same share of batches, and equal models get equal latency distributions.
 */

/** `sides` rotated left by `turn` (mod their number): turn 0 keeps their order, turn 1 starts with the second. */
export function runOrder<T>(sides: readonly T[], turn: number): T[] {
  const n = sides.length;
  if (n === 0) return [];
  const first = ((Math.trunc(turn) % n) + n) % n;
  return [...sides.slice(first), ...sides.slice(0, first)];
}

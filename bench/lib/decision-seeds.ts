/**
 * Which seeds of the decision benchmark's streams are for tuning and which for the report.
 *
 * Tuning seeds: the rule may be looked at, traced and changed on them as much as anyone likes.
 * Seeds 1–3 were the report seeds until the rule's revision 2, and BENCHMARKS.md diagnosed
 * failures from their timelines, so they shaped the rule: they are tuning seeds now.
 *
 * Report seeds: drawn once for a round of rule changes and not run until that round's rule is
 * frozen; the report table is the one run on them, whatever it says. Looking at their results
 * before then (a timeline, a trial run of a candidate rule) turns them into tuning seeds: draw
 * new ones and say so in BENCHMARKS.md.
 */
import { seedRange } from './cli.ts';

/**
 * 4101–4105 were the report seeds of rule revision 3 (run once, 2026-12-05, BENCHMARKS.md):
 * spent on that report, they are tuning seeds now. 5201–5205 were rule revision 4's report seeds
 * (run once, 2026-12-05T04:53Z); their table was read and the next rule was tuned with them in
 * view, so they are tuning seeds too. 6301–6305 were rule revision 5's report seeds (run once,
 * 2026-12-05T17:54Z); their gradual misses were read while revisions 6–8 were made. 7401–7405 were
 * rule revision 8's report seeds (run once, 2026-12-06T08:28Z); their abrupt and gradual losses
 * were then traced (BENCHMARKS.md, "Where revision 8 loses on abrupt and gradual streams"), so
 * they are tuning seeds now. 7501–7505 were drawn for the revision after 8; none was kept, and they
 * were run once on revision 8 (2026-12-06T14:50Z): spent, tuning seeds now. 7601–7605 were drawn for the
 * revision after 8; revision 13 (not kept: it decides as 8 everywhere) was frozen and both were run on them
 * once (2026-12-07T10:49–11:21Z): spent, tuning seeds now.
 */
export const TUNING_SEEDS: readonly number[] = [
  1, 2, 3, 101, 102, 103, 104, 105, 4101, 4102, 4103, 4104, 4105, 5201, 5202, 5203, 5204, 5205, 6301, 6302, 6303, 6304,
  6305, 7401, 7402, 7403, 7404, 7405, 7501, 7502, 7503, 7504, 7505, 7601, 7602, 7603, 7604, 7605,
];

/**
 * 7701–7705: drawn 2026-12-07 for the next rule revision and not run by anyone; run them once,
 * after that revision is frozen.
 */
export const REPORT_SEEDS: readonly number[] = [7701, 7702, 7703, 7704, 7705];

/** A `--seeds` value: the named sets "tuning" and "report", or a list like "1-3,101". */
export function parseSeeds(text: string): number[] {
  if (text === 'tuning') return [...TUNING_SEEDS];
  if (text === 'report') return [...REPORT_SEEDS];
  const seeds = seedRange(text);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new Error(`--seeds "${text}": expected "tuning", "report" or a list of whole numbers like 1-3,101`);
  return seeds;
}

/** How a run's seeds stand, for the output: "report", "tuning" or "other". */
export function seedSet(seeds: readonly number[]): 'report' | 'tuning' | 'other' {
  const same = (set: readonly number[]) => set.length === seeds.length && set.every((s, i) => seeds[i] === s);
  return same(REPORT_SEEDS) ? 'report' : seeds.every((s) => TUNING_SEEDS.includes(s)) ? 'tuning' : 'other';
}

/**
 * Category counting and alignment for categorical drift.
 *
 * The reference defines the category vocabulary. Categories seen in the current window
 * but never in the reference are not silently dropped: they are listed, their share is
 * reported (data quality's unseen-category rate), and for the tests they are pooled
 * into one extra `__unseen__` bucket (reference count 0), so a flood of new labels
 * registers as drift in chi-square, PSI, JS, Hellinger and L∞.
 */
import type { CategoricalColumn } from './missing-values.ts';

/** Name of the pooled bucket for categories absent from the reference. */
export const UNSEEN_CATEGORY = '__unseen__';

/** Counts per category label (what SQL `GROUP BY value` returns), plus missing. */
export interface CategoryCounts {
  counts: Record<string, number>;
  missing: number;
}

/** Count a raw categorical column; null/undefined (and NaN) count as missing. Labels are stringified. */
export function countCategories(column: CategoricalColumn): CategoryCounts {
  const counts: Record<string, number> = {};
  let missing = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      missing++;
      continue;
    }
    const key = String(v);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return { counts, missing };
}

/** Reference and current counts aligned over the same category order. */
export interface AlignedCategories {
  /** Reference categories in a stable (sorted) order, then `__unseen__` if any appeared. */
  categories: string[];
  reference: number[];
  current: number[];
  /** Current-window categories absent from the reference, sorted by count (desc), then name. */
  unseen: string[];
  /** Rows of the current window (non-missing) that fell into unseen categories. */
  unseenCount: number;
}

/**
 * Align two count maps. Reference categories with a zero count are kept in the
 * vocabulary (they are still "seen"). A reference that itself contains a literal
 * `__unseen__` label is kept as an ordinary category and merged with the pool.
 */
export function alignCategories(reference: Record<string, number>, current: Record<string, number>): AlignedCategories {
  const categories = Object.keys(reference).sort();
  const referenceCounts = categories.map((c) => reference[c] ?? 0);
  const currentCounts = categories.map((c) => current[c] ?? 0);
  const seen = new Set(categories);
  const unseenEntries = Object.entries(current).filter(([c, n]) => !seen.has(c) && n > 0);
  unseenEntries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const unseenCount = unseenEntries.reduce((s, [, n]) => s + n, 0);
  if (unseenCount > 0) {
    const pooled = categories.indexOf(UNSEEN_CATEGORY);
    if (pooled >= 0) {
      currentCounts[pooled] = (currentCounts[pooled] ?? 0) + unseenCount;
    } else {
      categories.push(UNSEEN_CATEGORY);
      referenceCounts.push(0);
      currentCounts.push(unseenCount);
    }
  }
  return {
    categories,
    reference: referenceCounts,
    current: currentCounts,
    unseen: unseenEntries.map(([c]) => c),
    unseenCount,
  };
}

/** Default cap on the labels a categorical reference keeps; the rest pool into {@link OTHER_CATEGORY}. */
export const DEFAULT_MAX_CATEGORIES = 1000;

/** Label that stands for every category beyond a capped reference vocabulary (both sides). */
export const OTHER_CATEGORY = '__other__';

/** Keep the `max` most frequent labels (ties by label), pooling the rest as `__other__`. */
export function capCategories<T extends CategoryCounts>(profile: T, max: number): { profile: T; capped: boolean } {
  const entries = Object.entries(profile.counts);
  if (entries.length <= max) return { profile, capped: false };
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const counts: Record<string, number> = {};
  let other = 0;
  entries.forEach(([label, n], index) => {
    if (index < max - 1 && label !== OTHER_CATEGORY) counts[label] = n;
    else other += n;
  });
  counts[OTHER_CATEGORY] = other;
  return { profile: { ...profile, counts }, capped: true };
}

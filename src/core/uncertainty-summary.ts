// How uncertain the data set is now, from the per-level sample counts the history keeps: O(levels),
// whatever N. Used for the epoch history and the inspection API.
import { EMPTY_LEVEL } from './history.js';

export const HISTOGRAM_BINS = 10;

export interface LevelCounts {
  /** Samples at each level id. */
  readonly levelCounts: readonly number[];
  readonly levels: { readonly uncertainty: readonly number[] };
}

export interface UncertaintySummary {
  readonly meanUncertainty: number;
  /** Samples with no reported prediction yet (F = 1 by definition). */
  readonly neverSeen: number;
  /** Samples per tenth of F: [0, 0.1), ..., [0.9, 1]. */
  readonly histogram: readonly number[];
}

/** The bin of F in a histogram of `bins` equal widths over [0, 1], the last one closed. */
export function binOf(f: number, bins = HISTOGRAM_BINS): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(f * bins + 1e-9)));
}

export function uncertaintySummary(h: LevelCounts): UncertaintySummary {
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  let total = 0;
  let weighted = 0;
  h.levelCounts.forEach((count, level) => {
    if (count === 0) return;
    const f = h.levels.uncertainty[level] ?? 1;
    histogram[binOf(f)]! += count;
    total += count;
    weighted += count * f;
  });
  return { meanUncertainty: total === 0 ? 1 : weighted / total, neverSeen: h.levelCounts[EMPTY_LEVEL] ?? 0, histogram };
}

/** Each distinct F value present and how many samples have it, by F ascending. */
export function uncertaintyValues(h: LevelCounts): { readonly uncertainty: number; readonly samples: number }[] {
  const byValue = new Map<number, number>();
  h.levelCounts.forEach((count, level) => {
    if (count === 0) return;
    const f = h.levels.uncertainty[level] ?? 1;
    byValue.set(f, (byValue.get(f) ?? 0) + count);
  });
  return [...byValue].sort((a, b) => a[0] - b[0]).map(([uncertainty, samples]) => ({ uncertainty, samples }));
}

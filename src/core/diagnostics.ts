// Whether selection is doing anything in an epoch, from its frozen P and the windows at its start
// (issue: "a service that tells the user whether it is doing anything").
import { FrozenDistribution } from './distribution.js';
import type { LevelCounts } from './uncertainty-summary.js';
import type { EpochDistribution } from './strategy.js';

export interface SelectionDiagnostics {
  /** Effective sample size of P relative to N: (sum P)^2 / sum P^2 / N. 1 when P is uniform. */
  readonly effectiveSampleSizeRatio: number;
  /** Samples with F > 0 (never-seen samples count: their F is 1), as a share of N. */
  readonly uncertainShare: number;
  /** The mass of P on the tenth of samples with the largest P: the share of draws expected to go there (0.1 when uniform). */
  readonly topDecileDrawShare: number;
  /** P is uniform although the epoch selects: no sample is more uncertain than another. */
  readonly uniform: boolean;
  /** Samples suspected mislabeled (src/core/label-suspicion.ts) as a share of N; absent in epochs recorded by older releases. */
  readonly suspectedMislabeledShare?: number;
}

/** Share of samples with F > 0, from the per-level counts: O(levels). */
export function uncertainShare(h: LevelCounts): number {
  let total = 0;
  let certain = 0;
  h.levelCounts.forEach((count, level) => {
    total += count;
    if ((h.levels.uncertainty[level] ?? 1) === 0) certain += count;
  });
  return total === 0 ? 1 : (total - certain) / total;
}

/**
 * Whether an epoch is meant to favour some samples: it draws from P, with s_e > 1 (Active Bias has
 * no schedule, pressure 0 in its plan). The last epoch of a schedule has s_e = 1 by design: its P
 * is uniform whatever the windows say, which is no sign that selection stopped working.
 */
export function meantToSelect(plan: { readonly weightedDraws: boolean; readonly pressure: number }): boolean {
  return plan.weightedDraws && plan.pressure !== 1;
}

/**
 * The diagnostics of an epoch drawn from `distribution` (undefined: uniform batches, as in warm-up
 * or a shuffle). `selects`: whether the epoch is meant to select (meantToSelect).
 */
export function selectionDiagnostics(distribution: EpochDistribution | undefined, h: LevelCounts, selects: boolean): SelectionDiagnostics {
  const share = uncertainShare(h);
  if (!distribution) return { effectiveSampleSizeRatio: 1, uncertainShare: share, topDecileDrawShare: 0.1, uniform: selects };
  const { ess, topDecile } =
    distribution instanceof FrozenDistribution ? groupedMass(distribution.groups()) : weightMass(distribution.weights);
  // Equal weights give a ratio of 1 up to rounding.
  return { effectiveSampleSizeRatio: ess, uncertainShare: share, topDecileDrawShare: topDecile, uniform: selects && ess > 1 - 1e-9 };
}

/** From (weight, samples) groups: O(groups log groups). */
export function groupedMass(groups: readonly { readonly weight: number; readonly size: number }[]): { ess: number; topDecile: number } {
  let n = 0;
  let sum = 0;
  let squares = 0;
  for (const { weight, size } of groups) {
    n += size;
    sum += weight * size;
    squares += weight * weight * size;
  }
  let left = Math.ceil(n / 10);
  let top = 0;
  for (const { weight, size } of [...groups].sort((a, b) => b.weight - a.weight)) {
    const take = Math.min(left, size);
    top += take * weight;
    left -= take;
    if (left === 0) break;
  }
  return { ess: (sum * sum) / squares / n, topDecile: top / sum };
}

/** From one weight per sample: O(N), with a selection of the ceil(N/10)-th largest on a copy. */
export function weightMass(weights: Float64Array): { ess: number; topDecile: number } {
  const n = weights.length;
  let sum = 0;
  let squares = 0;
  for (const w of weights) {
    sum += w;
    squares += w * w;
  }
  const k = Math.ceil(n / 10);
  const threshold = kthLargest(Float64Array.from(weights), k);
  let above = 0;
  let count = 0;
  for (const w of weights) {
    if (w > threshold) {
      above += w;
      count++;
    }
  }
  return { ess: (sum * sum) / squares / n, topDecile: (above + (k - count) * threshold) / sum };
}

/** The k-th largest value (1-based) by Hoare's selection; reorders `values`. */
function kthLargest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}

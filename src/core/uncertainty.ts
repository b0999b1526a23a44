// Predictive uncertainty F of a label window (spec section 2):
//   p_j = c_j / h,  F = -(1 / ln k) * sum_j p_j ln p_j,  F = 1 for an empty window.
// Rewritten as F = (ln h - S / h) / ln k with S = sum_j c_j ln c_j, so a window reduces to the
// multiset of its label counts: its "level". Windows with equal count multisets share F and are
// sampled with equal probability, which is what lets the sampler group samples by level.

/** F straight from the formula; the slow reference the fast paths are tested against. */
export function uncertainty(labels: readonly number[], numClasses: number): number {
  const h = labels.length;
  if (h === 0) return 1;
  const counts = new Map<number, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  let sum = 0;
  for (const c of counts.values()) {
    const p = c / h;
    sum += p * Math.log(p);
  }
  const f = -sum / Math.log(numClasses);
  return f <= 0 ? 0 : f; // -0 and rounding below zero for a unanimous window
}

/** 2^32: the fixed-point scale of S in a level key. */
const KEY_SCALE = 4294967296;
/** 2^44 > 32 ln 32 * 2^32: room for S below the valid-count digit of a key. */
export const KEY_COUNT_UNIT = 17592186044416;

/**
 * Computes, for a window of `h` labels stored at data[start .. start + h), an integer key that
 * identifies its level (h and the multiset of label counts), exact and independent of label order:
 * h * 2^44 + sum_j round(c_j ln c_j * 2^32). Integer sums are exact below 2^53, so the same
 * multiset always gives the same key. Also returns S = sum_j c_j ln c_j in floating point.
 */
export class LevelKeyer {
  private readonly cLnC: Float64Array;
  /** round(c ln c * 2^32) for c = 0 .. window: a key is h * 2^44 plus one term per label count. */
  readonly terms: Float64Array;
  private lastS = 0;

  constructor(readonly window: number) {
    this.cLnC = new Float64Array(window + 1);
    this.terms = new Float64Array(window + 1);
    for (let c = 1; c <= window; c++) {
      this.cLnC[c] = c * Math.log(c);
      this.terms[c] = Math.round(c * Math.log(c) * KEY_SCALE);
    }
  }

  key(data: ArrayLike<number>, start: number, h: number): number {
    let fixed = 0;
    let s = 0;
    const end = start + h;
    for (let j = start; j < end; j++) {
      const label = data[j];
      let seenBefore = false;
      for (let i = start; i < j; i++) {
        if (data[i] === label) {
          seenBefore = true;
          break;
        }
      }
      if (seenBefore) continue;
      let c = 1;
      for (let i = j + 1; i < end; i++) if (data[i] === label) c++;
      fixed += this.terms[c] ?? 0;
      s += this.cLnC[c] ?? 0;
    }
    this.lastS = s;
    return h * KEY_COUNT_UNIT + fixed;
  }

  /** S = sum_j c_j ln c_j of the window passed to the last key() call. */
  lastSumCLnC(): number {
    return this.lastS;
  }
}

/** F of a window with `h` valid labels and S = sum_j c_j ln c_j. */
export function uncertaintyFromSum(h: number, sumCLnC: number, numClasses: number): number {
  if (h === 0) return 1;
  const f = (Math.log(h) - sumCLnC / h) / Math.log(numClasses);
  return f <= 0 ? 0 : f;
}

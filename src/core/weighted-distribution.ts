// A frozen distribution over samples with one weight each, for the baselines whose P is not a
// function of a few levels (Online Batch: rank-based; Active Bias: std_hat + eps). Batches are
// drawn by successive sampling without replacement from a Fenwick tree of the weights: exact,
// O(b log N) per batch whatever the skew, where rejection would stall once the few heavy samples
// are taken.
import type { Rng } from './random.js';
import { type AllocateUint32, ownBuffer } from './typed-slab.js';

/** Draws that may land on a taken sample through rounding before the exact fallback. */
const MAX_ATTEMPTS = 64;

export class WeightedDistribution {
  /** tree[k] (1-based) holds the sum of weights (k - lowbit(k), k]. */
  private readonly tree: Float64Array;
  private readonly topBit: number;
  readonly totalWeight: number;

  /**
   * @param weights each sample's weight, all > 0 (kept; not copied)
   * @param pressure the ratio the strategy reports as its selection pressure
   */
  constructor(
    readonly weights: Float64Array,
    readonly pressure: number,
  ) {
    const n = weights.length;
    const tree = new Float64Array(n + 1);
    for (let k = 1; k <= n; k++) {
      tree[k] = tree[k]! + weights[k - 1]!;
      const parent = k + (k & -k);
      if (parent <= n) tree[parent] = tree[parent]! + tree[k]!;
    }
    this.tree = tree;
    this.topBit = n === 0 ? 0 : 2 ** Math.floor(Math.log2(n));
    this.totalWeight = weights.reduce((a, w) => a + w, 0);
  }

  get size(): number {
    return this.weights.length;
  }

  probabilityOf(sample: number): number {
    return (this.weights[sample] ?? 0) / this.totalWeight;
  }

  /**
   * `count` distinct samples, each drawn from P renormalised over the samples not yet taken, in
   * draw order. The tree is changed while drawing and restored exactly (old node values are
   * saved, not re-added), so every batch sees the same frozen P.
   */
  draw(count: number, rng: Rng, allocate: AllocateUint32 = ownBuffer): Uint32Array {
    const n = this.weights.length;
    const tree = this.tree;
    const taken = allocate(count);
    const inBatch = new Set<number>();
    const savedNode: number[] = [];
    const savedValue: number[] = [];
    for (let t = 0; t < count; t++) {
      const remaining = this.prefixSum(n);
      let sample = -1;
      for (let attempt = 0; sample < 0; attempt++) {
        if (attempt === MAX_ATTEMPTS) {
          sample = this.firstUntaken(inBatch);
          break;
        }
        let rest = rng.nextFloat() * remaining;
        let position = 0;
        for (let bit = this.topBit; bit > 0; bit >>= 1) {
          const next = position + bit;
          if (next <= n && tree[next]! <= rest) {
            position = next;
            rest -= tree[next]!;
          }
        }
        // Rounding can land on a taken sample (weight now 0) or past the end: draw again.
        if (position < n && !inBatch.has(position)) sample = position;
      }
      const w = this.weights[sample]!;
      for (let k = sample + 1; k <= n; k += k & -k) {
        savedNode.push(k);
        savedValue.push(tree[k]!);
        tree[k] = tree[k]! - w;
      }
      inBatch.add(sample);
      taken[t] = sample;
    }
    for (let s = savedNode.length - 1; s >= 0; s--) tree[savedNode[s]!] = savedValue[s]!;
    return taken;
  }

  /** Sum of the current weights of samples [0, k). */
  private prefixSum(k: number): number {
    let sum = 0;
    for (let i = k; i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }

  /** The way out when what is left weighs less than rounding noise: the heaviest untaken sample. */
  private firstUntaken(inBatch: ReadonlySet<number>): number {
    let best = -1;
    for (let i = 0; i < this.weights.length; i++) {
      if (!inBatch.has(i) && (best < 0 || this.weights[i]! > this.weights[best]!)) best = i;
    }
    return best;
  }
}

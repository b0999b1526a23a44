// The sampling distribution of one adaptive epoch, frozen at its start (spec sections 3 and 6):
// P(i) = s^F(i) / sum_j s^F(j). Samples are grouped by level (equal F), so a batch is drawn in
// O(b x levels) without ever sorting N numbers, and freezing is one counting sort over N.
import type { Rng } from './random.js';

/**
 * Marks the samples of the batch being drawn, all clear between draws. One buffer for every
 * distribution: draws never interleave (the service is single-threaded) and it is N bytes.
 */
let marks = new Uint8Array(0);
function batchMarks(size: number): Uint8Array {
  if (marks.length < size) marks = new Uint8Array(size);
  return marks;
}

export class FrozenDistribution {
  /** Sample ids grouped by level: group g is order[start[g] .. start[g] + size[g]). */
  private readonly order: Uint32Array;
  private readonly start: Uint32Array;
  private readonly size: Uint32Array;
  /** s^F of each group's level. */
  private readonly weight: Float64Array;
  /** cumulative[g]: total mass of groups 0 .. g. */
  private readonly cumulative: Float64Array;

  /** The level id of each group; groups are sorted by total mass, largest first, so scans end early. */
  readonly groupLevel: Uint16Array;
  readonly totalWeight: number;

  /**
   * @param levelOfSample each sample's level id at the epoch start (read, not kept)
   * @param levelUncertainty F of each level id
   * @param pressure s_e
   */
  constructor(levelOfSample: Uint16Array, levelUncertainty: readonly number[], readonly pressure: number) {
    const n = levelOfSample.length;
    const levelCount = levelUncertainty.length;
    const counts = new Uint32Array(levelCount);
    for (let i = 0; i < n; i++) counts[levelOfSample[i]!]!++;

    const present: number[] = [];
    for (let l = 0; l < levelCount; l++) if (counts[l]! > 0) present.push(l);
    const weightOf = (l: number) => pressure ** (levelUncertainty[l] ?? 1);
    present.sort((a, b) => weightOf(b) * counts[b]! - weightOf(a) * counts[a]! || a - b);

    const groups = present.length;
    this.start = new Uint32Array(groups);
    this.size = new Uint32Array(groups);
    this.weight = new Float64Array(groups);
    this.groupLevel = Uint16Array.from(present);
    const cursor = new Uint32Array(levelCount); // next free slot in order[] of each level's group
    let offset = 0;
    let total = 0;
    for (let g = 0; g < groups; g++) {
      const l = present[g]!;
      this.start[g] = offset;
      this.size[g] = counts[l]!;
      this.weight[g] = weightOf(l);
      cursor[l] = offset;
      offset += counts[l]!;
      total += this.weight[g]! * counts[l]!;
    }
    this.totalWeight = total;
    this.cumulative = new Float64Array(groups);
    let running = 0;
    for (let g = 0; g < groups; g++) this.cumulative[g] = running += this.weight[g]! * this.size[g]!;

    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[cursor[levelOfSample[i]!]!++] = i;
    this.order = order;
  }

  get groupCount(): number {
    return this.size.length;
  }

  /** P(i) of a sample whose level at the freeze was `level`; 0 if no sample had it. */
  probabilityOfLevel(level: number): number {
    const g = this.groupLevel.indexOf(level);
    return g < 0 ? 0 : this.weight[g]! / this.totalWeight;
  }

  /** Each sample's level at the freeze, rebuilt from the grouping (for snapshots). */
  levelOfSamples(): Uint16Array {
    const level = new Uint16Array(this.order.length);
    for (let g = 0; g < this.size.length; g++) {
      const l = this.groupLevel[g]!;
      const end = this.start[g]! + this.size[g]!;
      for (let j = this.start[g]!; j < end; j++) level[this.order[j]!] = l;
    }
    return level;
  }

  /**
   * Draws `count` distinct samples by successive sampling from P without replacement (each draw
   * from P renormalised over the samples not yet in the batch), in draw order. Depends only on
   * this distribution and the generator's state.
   */
  draw(count: number, rng: Rng): Uint32Array {
    return count * 8 <= this.order.length ? this.drawByRejection(count, rng) : this.drawBySwaps(count, rng);
  }

  /**
   * For b << N: draw from the full P (binary search over group masses, then a uniform member) and
   * redraw a sample already in the batch. Conditioned on acceptance, a draw follows P renormalised
   * over the samples not yet taken: exactly successive sampling, with under 1/8 of draws redone.
   */
  private drawByRejection(count: number, rng: Rng): Uint32Array {
    const taken = new Uint32Array(count);
    const inBatch = batchMarks(this.order.length);
    const cumulative = this.cumulative;
    const last = cumulative.length - 1;
    let n = 0;
    while (n < count) {
      const u = rng.nextFloat() * this.totalWeight;
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      const sample = this.order[this.start[lo]! + rng.nextInt(this.size[lo]!)]!;
      if (inBatch[sample] === 1) continue;
      inBatch[sample] = 1;
      taken[n++] = sample;
    }
    for (let i = 0; i < count; i++) inBatch[taken[i]!] = 0;
    return taken;
  }

  /**
   * For large batches: keep each group's not-yet-taken members in a live prefix (a swap per pick)
   * and scan group masses; the swaps are undone so the order array stays canonical.
   */
  private drawBySwaps(count: number, rng: Rng): Uint32Array {
    const groups = this.size.length;
    const order = this.order;
    const weight = this.weight;
    const remaining = Uint32Array.from(this.size);
    const taken = new Uint32Array(count);
    const swappedAt = new Uint32Array(count);
    const swappedWith = new Uint32Array(count);
    let total = this.totalWeight;
    for (let n = 0; n < count; n++) {
      let u = rng.nextFloat() * total;
      let g = 0;
      let last = -1;
      for (; g < groups; g++) {
        const left = remaining[g]!;
        if (left === 0) continue;
        last = g;
        const mass = weight[g]! * left;
        if (u < mass) break;
        u -= mass;
      }
      if (g === groups) g = last; // u landed past the end through rounding
      const left = remaining[g]!;
      const end = this.start[g]! + left - 1;
      const pick = this.start[g]! + rng.nextInt(left);
      const sample = order[pick]!;
      // Move the pick past the group's live part with a swap, undone below.
      order[pick] = order[end]!;
      order[end] = sample;
      swappedAt[n] = pick;
      swappedWith[n] = end;
      taken[n] = sample;
      remaining[g] = left - 1;
      total -= weight[g]!;
    }
    for (let n = count - 1; n >= 0; n--) {
      const a = swappedAt[n]!;
      const b = swappedWith[n]!;
      const t = order[a]!;
      order[a] = order[b]!;
      order[b] = t;
    }
    return taken;
  }
}

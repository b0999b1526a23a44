// The sampling distribution of one adaptive epoch, frozen at its start (spec sections 3 and 6):
// P(i) = s^F(i) / sum_j s^F(j). Samples are grouped by level (equal F), so a batch is drawn in
// O(b x levels) without ever sorting N numbers, and freezing is one counting sort over N.
import type { Rng } from './random.js';

export class FrozenDistribution {
  /** Sample ids grouped by level: group g is order[start[g] .. start[g] + size[g]). */
  private readonly order: Uint32Array;
  private readonly start: Uint32Array;
  private readonly size: Uint32Array;
  /** s^F of each group's level. */
  private readonly weight: Float64Array;
  /** The level id of each group (only non-empty levels get a group). */
  readonly groupLevel: Uint16Array;
  readonly totalWeight: number;

  /**
   * @param levelOfSample each sample's level id at the epoch start
   * @param levelUncertainty F of each level id
   * @param pressure s_e
   */
  constructor(levelOfSample: Uint16Array, levelUncertainty: readonly number[], readonly pressure: number) {
    const levelCount = levelUncertainty.length;
    const counts = new Uint32Array(levelCount);
    for (let i = 0; i < levelOfSample.length; i++) counts[levelOfSample[i] ?? 0]! += 1;

    const groupOfLevel = new Int32Array(levelCount).fill(-1);
    let groups = 0;
    for (let l = 0; l < levelCount; l++) if ((counts[l] ?? 0) > 0) groupOfLevel[l] = groups++;

    this.start = new Uint32Array(groups);
    this.size = new Uint32Array(groups);
    this.weight = new Float64Array(groups);
    this.groupLevel = new Uint16Array(groups);
    let offset = 0;
    let total = 0;
    for (let l = 0; l < levelCount; l++) {
      const g = groupOfLevel[l] ?? -1;
      if (g < 0) continue;
      const n = counts[l] ?? 0;
      const w = pressure ** (levelUncertainty[l] ?? 1);
      this.start[g] = offset;
      this.size[g] = n;
      this.weight[g] = w;
      this.groupLevel[g] = l;
      offset += n;
      total += w * n;
    }
    this.totalWeight = total;

    const cursor = Uint32Array.from(this.start);
    this.order = new Uint32Array(levelOfSample.length);
    for (let i = 0; i < levelOfSample.length; i++) {
      const g = groupOfLevel[levelOfSample[i] ?? 0] ?? 0;
      this.order[cursor[g]!++] = i;
    }
  }

  get groupCount(): number {
    return this.size.length;
  }

  /** P(i) of a sample whose level at the freeze was `level`; 0 if no sample had it. */
  probabilityOfLevel(level: number): number {
    for (let g = 0; g < this.groupLevel.length; g++) {
      if (this.groupLevel[g] === level) return (this.weight[g] ?? 0) / this.totalWeight;
    }
    return 0;
  }

  /**
   * Draws `count` distinct samples by successive sampling from P without replacement (each draw
   * from P renormalised over the samples not yet in the batch), in draw order. The order array is
   * restored afterwards, so a batch depends only on this distribution and the generator's state.
   */
  draw(count: number, rng: Rng): Uint32Array {
    const groups = this.size.length;
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
        const left = remaining[g] ?? 0;
        if (left === 0) continue;
        last = g;
        const mass = (this.weight[g] ?? 0) * left;
        if (u < mass) break;
        u -= mass;
      }
      if (g === groups) g = last; // u landed past the end through rounding
      const left = remaining[g] ?? 0;
      const base = this.start[g] ?? 0;
      const pick = base + rng.nextInt(left);
      const end = base + left - 1;
      const sample = this.order[pick] ?? 0;
      // Move the pick to the end of the group's live part: a swap, undone below.
      this.order[pick] = this.order[end] ?? 0;
      this.order[end] = sample;
      swappedAt[n] = pick;
      swappedWith[n] = end;
      taken[n] = sample;
      remaining[g] = left - 1;
      total -= this.weight[g] ?? 0;
    }
    for (let n = count - 1; n >= 0; n--) {
      const a = swappedAt[n] ?? 0;
      const b = swappedWith[n] ?? 0;
      const t = this.order[a] ?? 0;
      this.order[a] = this.order[b] ?? 0;
      this.order[b] = t;
    }
    return taken;
  }
}

// The sampling distribution of one adaptive epoch, frozen at its start (spec sections 3 and 6):
// P(i) = s^F(i) / sum_j s^F(j). Samples are grouped by level (equal F), so a batch is drawn in
// O(b x levels) without ever sorting N numbers, and freezing is one counting sort over N.
import type { Rng } from './random.js';
import { type AllocateUint32, ownBuffer } from './typed-slab.js';

/** Scratch space for the draws; one of each is enough, draws never interleave. */
const randomBlock = new Uint32Array(1024);
let scratchA = new Uint32Array(0);
let scratchB = new Uint32Array(0);

/** Two scratch arrays of at least `length` elements (contents undefined). */
function scratchPair(length: number): [Uint32Array, Uint32Array] {
  if (scratchA.length < length) {
    scratchA = new Uint32Array(length);
    scratchB = new Uint32Array(length);
  }
  return [scratchA, scratchB];
}
/**
 * An open-addressing set of positions: a slot holds a position of this draw while its mark is
 * the draw's, so a new draw empties the set by taking a new mark instead of clearing slots.
 */
let seenPositions = new Int32Array(0);
let seenMarks = new Uint32Array(0);
let drawMark = 0;
/**
 * A grouping array (4N bytes) given up by compact(), for the next freeze of the same N: a fresh
 * one is zeroed and page-faulted in by the OS, which costs more than the grouping itself, on the
 * epoch boundary the trainer waits at (a freeze at N = 60,000: 0.96 ms with a new array, 0.28
 * with this one; `npm run bench -- --only boundary`). Held from a compaction to the next freeze:
 * 4N bytes more until then (src/DESIGN.md, "Held epochs").
 */
let spareOrder: Uint32Array | undefined;

function orderArray(n: number): Uint32Array {
  const spare = spareOrder;
  if (spare === undefined || spare.length !== n) return new Uint32Array(n);
  spareOrder = undefined;
  return spare; // not cleared: orderOf writes every element
}

/** Vose's alias method: thresholds (scaled to 2^32) and aliases for picking i with P = mass[i] / total. */
function aliasTable(mass: Float64Array, total: number): [Float64Array, Uint32Array] {
  const n = mass.length;
  const threshold = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = mass.map((m) => (m * n) / total);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1]!;
    threshold[s] = scaled[s]! * 4294967296;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    if (scaled[l]! < 1) small.push(large.pop()!);
  }
  // Left-overs are 1 up to rounding: always keep their own column.
  for (const i of [...small, ...large]) {
    threshold[i] = 4294967296;
    alias[i] = i;
  }
  return [threshold, alias];
}

export class FrozenDistribution {
  /**
   * Sample ids grouped by level: group g is order[start[g] .. start[g] + size[g]). Undefined while
   * compact (see compact()); rebuilt, identically, when a draw needs it.
   */
  private sampleOrder: Uint32Array | undefined;
  /** Each sample's level at the freeze, once asked for or compacted (2N bytes). */
  private levelCache: Uint16Array | undefined;
  private readonly groupOfLevel: Int32Array;
  private readonly start: Uint32Array;
  private readonly size: Uint32Array;
  /** 2^ceil(log2 size) - 1 per group: a random word masked with it is < size half the time or more. */
  private readonly memberMask: Uint32Array;
  /** s^F of each group's level. */
  private readonly weight: Float64Array;
  /**
   * Walker's alias table over groups (Vose's construction): pick column j uniformly, keep it if
   * a uniform 32-bit word is below aliasThreshold[j], else take aliasOf[j]. O(1) per pick, exact
   * up to the 2^-32 resolution of the thresholds.
   */
  private readonly aliasThreshold: Float64Array;
  private readonly aliasOf: Uint32Array;

  /** The level id of each group; groups are sorted by total mass, largest first, so scans end early. */
  readonly groupLevel: Uint16Array;
  readonly totalWeight: number;
  /** The largest s^F of a sample. */
  private readonly heaviest: number;

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
    let offset = 0;
    let total = 0;
    for (let g = 0; g < groups; g++) {
      const l = present[g]!;
      this.start[g] = offset;
      this.size[g] = counts[l]!;
      this.weight[g] = weightOf(l);
      offset += counts[l]!;
      total += this.weight[g]! * counts[l]!;
    }
    this.totalWeight = total;
    this.heaviest = this.weight.reduce((a, b) => Math.max(a, b), 0);
    this.memberMask = this.size.map((n) => (n <= 1 ? 0 : 2 ** Math.ceil(Math.log2(n)) - 1));
    [this.aliasThreshold, this.aliasOf] = aliasTable(this.weight.map((w, g) => w * this.size[g]!), total);

    this.groupOfLevel = new Int32Array(levelCount).fill(-1);
    present.forEach((l, g) => (this.groupOfLevel[l] = g));
    this.sampleOrder = this.orderOf(levelOfSample);
  }

  /** The grouping of samples by level: a stable counting sort (so a rebuild gives the same array). */
  private orderOf(levelOfSample: Uint16Array): Uint32Array {
    // Next free slot of each level's group (levels without samples never occur).
    const cursor = Uint32Array.from(this.groupOfLevel, (g) => (g < 0 ? 0 : this.start[g]!));
    const order = orderArray(levelOfSample.length);
    for (let i = 0; i < levelOfSample.length; i++) order[cursor[levelOfSample[i]!]!++] = i;
    return order;
  }

  private get order(): Uint32Array {
    this.sampleOrder ??= this.orderOf(this.levelCache!);
    return this.sampleOrder;
  }

  /**
   * Keeps each sample's level (2N bytes) instead of the grouping (4N): for an epoch held only for
   * lagging ranks, which rarely draw. A later draw rebuilds the grouping exactly.
   */
  get isCompact(): boolean {
    return this.sampleOrder === undefined;
  }

  compact(): void {
    this.levelCache ??= this.levelOfSamples();
    // Nothing else holds the grouping (draws read it synchronously): the next freeze may reuse it.
    if (this.sampleOrder !== undefined) spareOrder = this.sampleOrder;
    this.sampleOrder = undefined;
  }

  /** Each group's weight s^F and size, for diagnostics. */
  groups(): { readonly weight: number; readonly size: number }[] {
    return Array.from(this.size, (size, g) => ({ weight: this.weight[g]!, size }));
  }

  get groupCount(): number {
    return this.size.length;
  }

  /** P(i) of a sample whose level at the freeze was `level`; 0 if no sample had it. */
  probabilityOfLevel(level: number): number {
    const g = this.groupLevel.indexOf(level);
    return g < 0 ? 0 : this.weight[g]! / this.totalWeight;
  }

  /** P(i) of one sample under this distribution. */
  probabilityOf(sample: number): number {
    this.levelCache ??= this.levelOfSamples();
    return this.probabilityOfLevel(this.levelCache[sample] ?? 0);
  }

  /** Each sample's level at the freeze, rebuilt from the grouping (for snapshots). */
  levelOfSamples(): Uint16Array {
    if (this.levelCache) return this.levelCache;
    const order = this.order;
    const level = new Uint16Array(order.length);
    for (let g = 0; g < this.size.length; g++) {
      const l = this.groupLevel[g]!;
      const end = this.start[g]! + this.size[g]!;
      for (let j = this.start[g]!; j < end; j++) level[order[j]!] = l;
    }
    return level;
  }

  /**
   * Draws `count` distinct samples by successive sampling from P without replacement (each draw
   * from P renormalised over the samples not yet in the batch), in draw order. Depends only on
   * this distribution and the generator's state. `allocate` makes the array returned.
   */
  draw(count: number, rng: Rng, allocate: AllocateUint32 = ownBuffer): Uint32Array {
    // Rejection redraws picks of samples already taken: it is chosen only when `count` of the
    // heaviest samples hold at most 1/8 of the mass, so fewer than 1/8 of picks are redone whatever
    // P's skew; otherwise the swaps' O(count x groups) bound holds.
    return count * this.heaviest <= this.totalWeight / 8 ? this.drawByRejection(count, rng, allocate) : this.drawBySwaps(count, rng, allocate);
  }

  /**
   * For b << N under a mild P: draw from the full P (alias table over groups, then a uniform
   * member) and redraw a sample already in the batch. Conditioned on acceptance, a draw follows P
   * renormalised over the samples not yet taken: exactly successive sampling, with under 1/8 of
   * draws redone (see draw()).
   */
  private drawByRejection(count: number, rng: Rng, allocate: AllocateUint32): Uint32Array {
    // Positions in order[] identify samples, so duplicates are caught in a small open-addressing
    // set that stays in cache; order[] (4N bytes) is read once per accepted position, in a loop
    // of independent loads rather than a cache miss on the critical path of every pick.
    const capacity = 2 ** Math.ceil(Math.log2(count * 2 + 1));
    const mask = capacity - 1;
    if (seenMarks.length < capacity || drawMark === 0xffffffff) {
      seenPositions = new Int32Array(Math.max(capacity, seenMarks.length));
      seenMarks = new Uint32Array(seenPositions.length);
      drawMark = 0;
    }
    const mark = ++drawMark;
    const seen = seenPositions;
    const marks = seenMarks;
    const [positions] = scratchPair(count);
    const groups = this.aliasOf.length;
    const { aliasThreshold, aliasOf, size: groupSize, memberMask: groupMask, start: groupStart } = this;
    const words = randomBlock;
    let w = words.length; // words used up: refill first
    let n = 0;
    while (n < count) {
      if (w + 3 + 64 > words.length) {
        rng.fill(words);
        w = 0;
      }
      // One word gives the column, the integer part of word * groups / 2^32, and the coin, the
      // remainder: given the column it is uniform over [0, 2^32) in steps of `groups` (2^16 levels
      // at least, as levels < 2^16), compared with the threshold at the same scale.
      const scaled = words[w++]! * groups;
      const column = Math.floor(scaled / 4294967296);
      const coin = scaled - column * 4294967296;
      const g = coin < aliasThreshold[column]! ? column : aliasOf[column]!;
      const size = groupSize[g]!;
      // Uniform member: mask to the next power of two and reject overshoots (exact, < 2 words).
      const memberMask = groupMask[g]!;
      let member = words[w++]! & memberMask;
      while (member >= size) {
        if (w >= words.length) {
          rng.fill(words);
          w = 0;
        }
        member = words[w++]! & memberMask;
      }
      const position = groupStart[g]! + member;
      let slot = (Math.imul(position, 0x9e3779b1) >>> 0) & mask;
      while (marks[slot] === mark && seen[slot] !== position) slot = (slot + 1) & mask;
      if (marks[slot] === mark) continue;
      marks[slot] = mark;
      seen[slot] = position;
      positions[n++] = position;
    }
    const taken = allocate(count);
    const order = this.order;
    for (let i = 0; i < count; i++) taken[i] = order[positions[i]!]!;
    return taken;
  }

  /**
   * For large batches: keep each group's not-yet-taken members in a live prefix (a swap per pick)
   * and scan group masses; the swaps are undone so the order array stays canonical.
   */
  private drawBySwaps(count: number, rng: Rng, allocate: AllocateUint32): Uint32Array {
    const groups = this.size.length;
    const order = this.order;
    const weight = this.weight;
    const remaining = Uint32Array.from(this.size);
    const taken = allocate(count);
    const [swappedAt, swappedWith] = scratchPair(count);
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

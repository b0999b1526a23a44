// Per-sample label windows (spec section 1) in flat typed arrays, and each sample's level, kept
// up to date on every report so an epoch start only has to group samples by level.
import { KEY_COUNT_UNIT, LevelKeyer, uncertaintyFromSum } from './uncertainty.js';

export type LabelArray = Uint8Array | Uint16Array | Uint32Array;

/** Level 0 is the empty window (F = 1): every sample starts there. */
export const EMPTY_LEVEL = 0;
/** Level ids are stored in a Uint16Array. */
const MAX_LEVELS = 65536;

/** The distinct levels seen so far, numbered in order of first appearance. */
export class LevelTable {
  private readonly idByKey = new Map<number, number>();
  /** F of each level id. */
  readonly uncertainty: number[] = [1];
  /** The key of each level id (0 for the empty window). */
  readonly keys: number[] = [0];

  constructor() {
    this.idByKey.set(0, EMPTY_LEVEL);
  }

  get size(): number {
    return this.uncertainty.length;
  }

  /** The id of a level seen before, without adding one. */
  find(key: number): number | undefined {
    return this.idByKey.get(key);
  }

  idOf(key: number, f: number): number {
    const known = this.idByKey.get(key);
    if (known !== undefined) return known;
    const id = this.uncertainty.length;
    if (id >= MAX_LEVELS) throw new RangeError('more than 65536 distinct uncertainty levels');
    this.idByKey.set(key, id);
    this.uncertainty.push(f);
    this.keys.push(key);
    return id;
  }
}

/** Bytes per stored label: the smallest unsigned type that holds every class id. */
export function labelBytes(numClasses: number): 1 | 2 | 4 {
  return numClasses <= 0x100 ? 1 : numClasses <= 0x10000 ? 2 : 4;
}

function labelArray(length: number, numClasses: number): LabelArray {
  const bytes = labelBytes(numClasses);
  return bytes === 1 ? new Uint8Array(length) : bytes === 2 ? new Uint16Array(length) : new Uint32Array(length);
}

/**
 * The last `window` predicted labels of each of `size` samples. Sample i's window occupies
 * labels[i*q .. (i+1)*q), oldest first, right-aligned: its `valid[i]` labels are the last ones.
 */
export class HistoryWindows {
  readonly labels: LabelArray;
  readonly valid: Uint8Array;
  readonly level: Uint16Array;
  readonly levels = new LevelTable();
  /** How many samples are at each level id now (kept on every report: histograms cost O(levels)). */
  readonly levelCounts: number[];
  private readonly keyer: LevelKeyer;

  constructor(
    readonly size: number,
    readonly window: number,
    readonly numClasses: number,
  ) {
    if (window < 1 || window > 255) throw new RangeError(`window must be in [1, 255], got ${window}`);
    this.labels = labelArray(size * window, numClasses);
    this.valid = new Uint8Array(size);
    this.level = new Uint16Array(size);
    this.keyer = new LevelKeyer(window);
    this.levelCounts = [size];
  }

  /**
   * Appends one predicted label to each listed sample's window. Inputs are already validated.
   * A level's key is a sum of one term per label count (LevelKeyer), so the new key is the old
   * one plus the change of the two counts that move: O(q) per label, not the O(q^2) of keying the
   * window afresh, and F is computed only for a level not seen before.
   */
  record(indices: ArrayLike<number>, predicted: ArrayLike<number>): void {
    const q = this.window;
    const { labels, valid, level, levelCounts } = this;
    const keys = this.levels.keys;
    const term = this.keyer.terms;
    for (let n = 0; n < indices.length; n++) {
      const sample = indices[n] ?? 0;
      const label = predicted[n] ?? 0;
      const base = sample * q;
      const last = base + q - 1;
      const before = level[sample] ?? EMPTY_LEVEL;
      let key = keys[before] ?? 0;
      const h = Math.min((valid[sample] ?? 0) + 1, q);
      if (h === valid[sample]) {
        // The window is full: its oldest label leaves.
        const out = labels[base] ?? 0;
        let c = 0;
        for (let j = base; j <= last; j++) if (labels[j] === out) c++;
        key += (term[c - 1] ?? 0) - (term[c] ?? 0);
      } else {
        key += KEY_COUNT_UNIT;
      }
      let c = 0;
      for (let j = base; j < last; j++) {
        const next = labels[j + 1] ?? 0;
        labels[j] = next;
        if (next === label && j >= last - h + 1) c++;
      }
      labels[last] = label;
      key += (term[c + 1] ?? 0) - (term[c] ?? 0);
      valid[sample] = h;
      const after = this.levels.find(key) ?? this.levels.idOf(key, this.uncertaintyAt(last + 1 - h, h));
      level[sample] = after;
      levelCounts[before]! -= 1;
      levelCounts[after] = (levelCounts[after] ?? 0) + 1;
    }
  }

  /** Recounts samples per level after the level array was loaded wholesale. */
  recountLevels(): void {
    this.levelCounts.length = 0;
    for (let l = 0; l < this.levels.size; l++) this.levelCounts.push(0);
    for (let i = 0; i < this.size; i++) this.levelCounts[this.level[i]!]! += 1;
  }

  /** Oldest-to-newest valid labels of one sample. */
  windowOf(sample: number): number[] {
    const q = this.window;
    const h = this.valid[sample] ?? 0;
    return Array.from(this.labels.subarray(sample * q + q - h, sample * q + q));
  }

  /** The level id of a unanimous full window (F = 0) if some sample has had one; the table is not changed. */
  unanimousLevel(): number | undefined {
    return this.levels.find(this.keyer.key(new Uint8Array(this.window), 0, this.window));
  }

  uncertaintyOf(sample: number): number {
    return this.levels.uncertainty[this.level[sample] ?? EMPTY_LEVEL] ?? 1;
  }

  /** Recomputes every sample's level from its labels (after loading a snapshot). */
  rebuildLevels(): void {
    const q = this.window;
    for (let i = 0; i < this.size; i++) {
      const h = this.valid[i] ?? 0;
      this.level[i] = h === 0 ? EMPTY_LEVEL : this.levelOf(i * q + q - h, h);
    }
    this.recountLevels();
  }

  /** F of the h labels stored from `start` (a level seen for the first time). */
  private uncertaintyAt(start: number, h: number): number {
    this.keyer.key(this.labels, start, h);
    return uncertaintyFromSum(h, this.keyer.lastSumCLnC(), this.numClasses);
  }

  private levelOf(start: number, h: number): number {
    const key = this.keyer.key(this.labels, start, h);
    const f = uncertaintyFromSum(h, this.keyer.lastSumCLnC(), this.numClasses);
    return this.levels.idOf(key, f);
  }
}

// What the inspection API shows about each sample besides its window: how many served batches
// held it and the last step a trainer reported it, plus which steps' draws have been counted
// (draws are counted from durably written batches, so a restart never counts one twice).

const MAX_DRAWN = 0xffff; // counts saturate: 2 bytes per sample
const MAX_STEP = 0xffff_ffff;

export interface CountedSteps {
  /** Every step below this one has been counted... */
  readonly below: number;
  /** ...and these at or above it (batches are written out of step order when ranks lag). */
  readonly above: readonly number[];
}

export class SampleActivity {
  readonly drawn: Uint16Array;
  /** Last reported step + 1; 0 = never reported. */
  readonly lastReported: Uint32Array;
  private countedBelow = 0;
  private readonly countedAbove = new Set<number>();

  constructor(readonly size: number) {
    this.drawn = new Uint16Array(size);
    this.lastReported = new Uint32Array(size);
  }

  isCounted(step: number): boolean {
    return step < this.countedBelow || this.countedAbove.has(step);
  }

  /** Counts the draws of a step's global batch, once per step. */
  countDraws(step: number, indices: Uint32Array): void {
    if (this.isCounted(step)) return;
    const drawn = this.drawn;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (drawn[i]! < MAX_DRAWN) drawn[i] = drawn[i]! + 1;
    }
    this.countedAbove.add(step);
    while (this.countedAbove.delete(this.countedBelow)) this.countedBelow++;
  }

  recordReport(step: number, indices: Uint32Array): void {
    const value = Math.min(step + 1, MAX_STEP);
    const last = this.lastReported;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      if (last[i]! < value) last[i] = value;
    }
  }

  /** Number of global batches counted. */
  get batchesCounted(): number {
    return this.countedBelow + this.countedAbove.size;
  }

  get countedSteps(): CountedSteps {
    return { below: this.countedBelow, above: [...this.countedAbove].sort((a, b) => a - b) };
  }

  restore(drawn: Uint16Array, lastReported: Uint32Array, counted: CountedSteps): void {
    this.drawn.set(drawn);
    this.lastReported.set(lastReported);
    this.countedBelow = counted.below;
    this.countedAbove.clear();
    for (const step of counted.above) this.countedAbove.add(step);
  }
}

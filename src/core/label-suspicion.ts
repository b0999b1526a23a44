// Samples suspected mislabeled, read from Recency Bias's own windows (beyond the paper; after
// SELFIE, Song et al., ICML 2019): a sample whose last q predictions all agree with each other but
// not with its dataset label is likely mislabeled. Recency Bias alone oversamples such samples:
// once the model starts memorizing the wrong label, their predictions flip between it and the
// class the image shows, which is exactly what "uncertain" means to it.
//
// The suspicion is sticky: it is set by a unanimous full window that disagrees with the label and
// cleared only by a unanimous full window that agrees with it. Windows in between (the flipping
// phase) leave it as it was, so the flag survives the phase in which it matters.
import type { HistoryWindows } from './history.js';

/** consensus[i] when sample i is not suspected. */
export const NOT_SUSPECTED = -1;

export class LabelSuspicion {
  /** Per sample: the class its unanimous window predicted when it was found to disagree with the label, or -1. */
  readonly consensus: Int32Array;
  /** How many samples are suspected now. */
  suspected = 0;

  constructor(size: number, consensus?: Int32Array) {
    this.consensus = consensus ?? new Int32Array(size).fill(NOT_SUSPECTED);
    if (consensus) for (const c of consensus) if (c !== NOT_SUSPECTED) this.suspected++;
  }

  /**
   * After `history` recorded a report: updates the listed samples from their windows and the
   * labels the data set gives them. O(1) per index: a full window with F = 0 is unanimous.
   */
  record(indices: Uint32Array, datasetLabels: Uint32Array, history: HistoryWindows): void {
    const q = history.window;
    for (let n = 0; n < indices.length; n++) {
      const i = indices[n]!;
      if (history.valid[i] !== q || history.uncertaintyOf(i) !== 0) continue;
      const predicted = history.labels[i * q + q - 1]!;
      const next = predicted === datasetLabels[n] ? NOT_SUSPECTED : predicted;
      const before = this.consensus[i]!;
      this.suspected += (next !== NOT_SUSPECTED ? 1 : 0) - (before !== NOT_SUSPECTED ? 1 : 0);
      this.consensus[i] = next;
    }
  }

  /**
   * The per-sample levels of P with every suspected sample moved to the level of a unanimous full
   * window (F = 0): kept out of the uncertain set. A copy; `level` is not changed.
   */
  excluded(level: Uint16Array, history: HistoryWindows): Uint16Array {
    const out = Uint16Array.from(level);
    if (this.suspected === 0) return out;
    // Every suspected sample had a unanimous full window when it became suspected: the level exists.
    const certain = history.unanimousLevel();
    if (certain === undefined) throw new Error('samples are suspected but no window was ever unanimous');
    for (let i = 0; i < out.length; i++) if (this.consensus[i] !== NOT_SUSPECTED) out[i] = certain;
    return out;
  }
}

/** Per index of `batch`: the class to train with instead of the dataset label, or -1 (not suspected at the freeze). */
export function refurbishedLabels(frozenConsensus: Int32Array, batch: Uint32Array): Int32Array {
  const out = new Int32Array(batch.length);
  for (let j = 0; j < batch.length; j++) out[j] = frozenConsensus[batch[j]!]!;
  return out;
}

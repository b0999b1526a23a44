// What the baselines learn from reports besides predicted labels (spec section 7): each sample's
// latest training loss (Online Batch) and the running mean and variance of its predicted
// probability of the true class (Active Bias). Arrays are allocated on the first report that
// carries the field, so a Recency Bias sampler pays nothing for them.

export class SampleSignals {
  /** Latest reported loss; NaN until one is. */
  latestLoss: Float32Array | undefined;
  /** Welford's running statistics of the true-class probability. */
  probCount: Uint32Array | undefined;
  probMean: Float64Array | undefined;
  probM2: Float64Array | undefined;

  constructor(readonly size: number) {}

  record(indices: Uint32Array, losses: Float32Array | undefined, probs: Float32Array | undefined): void {
    if (losses) {
      const latest = (this.latestLoss ??= new Float32Array(this.size).fill(Number.NaN));
      for (let j = 0; j < indices.length; j++) latest[indices[j]!] = losses[j]!;
    }
    if (probs) {
      const count = (this.probCount ??= new Uint32Array(this.size));
      const mean = (this.probMean ??= new Float64Array(this.size));
      const m2 = (this.probM2 ??= new Float64Array(this.size));
      for (let j = 0; j < indices.length; j++) {
        const i = indices[j]!;
        const x = probs[j]!;
        const n = ++count[i]!;
        const delta = x - mean[i]!;
        mean[i] = mean[i]! + delta / n;
        m2[i] = m2[i]! + delta * (x - mean[i]!);
      }
    }
  }

  /**
   * Active Bias's std_hat = sqrt(var + var^2 / (n - 1)) over a sample's n reports, with var the
   * variance of those probabilities (divided by n); 0 while n < 2 (spec section 7).
   */
  activeBiasStd(i: number): number {
    const n = this.probCount?.[i] ?? 0;
    if (n < 2) return 0;
    const variance = this.probM2![i]! / n;
    return Math.sqrt(variance + (variance * variance) / (n - 1));
  }
}

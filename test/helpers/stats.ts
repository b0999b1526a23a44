// Statistical helpers for tests of seeded randomness.

/** Pearson's chi-squared statistic of observed counts against expected counts. */
export function chiSquared(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let x2 = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i] ?? 0;
    const d = (observed[i] ?? 0) - e;
    x2 += (d * d) / e;
  }
  return x2;
}

/**
 * Upper critical value of chi-squared with `df` degrees of freedom at significance 0.001
 * (Wilson-Hilferty approximation, within 1% for df >= 2): a correct sampler exceeds it 1 time in 1000.
 */
export function chiSquaredCritical001(df: number): number {
  const z = 3.0902; // standard normal quantile at 0.999
  const t = 1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df));
  return df * t * t * t;
}

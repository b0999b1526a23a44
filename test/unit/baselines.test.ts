// The paper's baselines (spec section 7): Online Batch's rank-based P, Active Bias's std_hat + eps,
// the reweighting variant's loss weights, and the weighted sampler that draws their batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { SampleSignals } from '../../src/core/sample-signals.js';
import { activeBiasWeights, lossWeights, onlineBatchWeights } from '../../src/core/strategy.js';
import { WeightedDistribution } from '../../src/core/weighted-distribution.js';
import { chiSquared, chiSquaredCritical001 } from '../helpers/stats.js';

describe('Online Batch weights', () => {
  it('ranks by latest loss, largest first, with P(r) proportional to s^(-r/N)', () => {
    const losses = Float32Array.of(0.5, 2, 0.1, 1);
    const s = 16;
    const w = onlineBatchWeights(losses, 4, s);
    // Ranks: sample 1 (2.0) r=0, sample 3 (1.0) r=1, sample 0 (0.5) r=2, sample 2 (0.1) r=3.
    const expected = [2, 0, 3, 1].map((r) => s ** (-r / 4));
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(w[i]! - expected[i]!) < 1e-12, `sample ${i}: ${w[i]} vs ${expected[i]}`);
    // The best-ranked sample is s^((N-1)/N) times as likely as the worst, as the formula says.
    assert.ok(Math.abs(w[1]! / w[2]! - s ** (3 / 4)) < 1e-9);
  });

  it('puts samples without a reported loss first and breaks ties by index', () => {
    const losses = Float32Array.of(1, Number.NaN, 1, 3);
    const w = onlineBatchWeights(losses, 4, 100);
    const byWeight = [0, 1, 2, 3].sort((a, b) => w[b]! - w[a]!);
    assert.deepEqual(byWeight, [1, 3, 0, 2]);
    assert.equal(onlineBatchWeights(undefined, 3, 100)[0], 1, 'no loss at all: rank by index');
  });

  it('is uniform at s = 1', () => {
    assert.deepEqual([...onlineBatchWeights(Float32Array.of(3, 1, 2), 3, 1)], [1, 1, 1]);
  });
});

describe('Active Bias statistics', () => {
  /** std_hat straight from the spec's formula over the full list of a sample's probabilities. */
  function reference(probs: number[]): number {
    const n = probs.length;
    if (n < 2) return 0;
    const mean = probs.reduce((a, p) => a + p, 0) / n;
    const variance = probs.reduce((a, p) => a + (p - mean) ** 2, 0) / n;
    return Math.sqrt(variance + variance ** 2 / (n - 1));
  }

  it('keeps running mean and variance whose std_hat matches the formula over all reports', () => {
    const signals = new SampleSignals(3);
    const history: number[][] = [[], [], []];
    const rng = new Rng(5);
    for (let report = 0; report < 40; report++) {
      const indices = Uint32Array.of(report % 3, (report + 1) % 3);
      const probs = Float32Array.from(indices, () => Math.fround(rng.nextFloat()));
      signals.record(indices, undefined, probs);
      indices.forEach((i, j) => history[i]!.push(probs[j]!));
    }
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(signals.activeBiasStd(i) - reference(history[i]!)) < 1e-12, `sample ${i}`);
    }
  });

  it('uses std_hat = 0 below two reports, so P(i) is proportional to eps there', () => {
    const signals = new SampleSignals(3);
    signals.record(Uint32Array.of(0, 1, 1), undefined, Float32Array.of(0.9, 0.2, 0.8));
    const w = activeBiasWeights(signals, 0.2);
    assert.equal(w[0], 0.2);
    assert.equal(w[2], 0.2);
    assert.ok(Math.abs(w[1]! - (reference([0.2, 0.8]) + 0.2)) < 1e-7);
  });

  it('records the latest loss per sample, NaN until reported', () => {
    const signals = new SampleSignals(3);
    assert.equal(signals.latestLoss, undefined, 'nothing allocated before a loss arrives');
    signals.record(Uint32Array.of(2, 0), Float32Array.of(1.5, 0.25), undefined);
    signals.record(Uint32Array.of(2), Float32Array.of(0.5), undefined);
    assert.deepEqual([...signals.latestLoss!], [0.25, Number.NaN, 0.5]);
  });
});

describe('loss weights of the reweighting variant', () => {
  it('are the samples weights scaled to mean 1 over the batch', () => {
    const weights = Float64Array.of(0.2, 0.6, 1.0, 0.2);
    const w = lossWeights(weights, Uint32Array.of(1, 2, 3));
    const sum = 0.6 + 1.0 + 0.2;
    assert.deepEqual([...w], [0.6, 1.0, 0.2].map((x) => Math.fround((x * 3) / sum)));
  });
});

describe('WeightedDistribution', () => {
  const weights = Float64Array.from({ length: 50 }, (_, i) => 0.2 + (i % 7) * 0.3 + (i === 3 ? 20 : 0));

  it('draws single samples with frequencies proportional to their weights (chi-squared, p = 0.001)', () => {
    const d = new WeightedDistribution(weights, 1);
    const rng = new Rng(99);
    const draws = 200_000;
    const counts = new Float64Array(50);
    for (let n = 0; n < draws; n++) counts[d.draw(1, rng)[0]!]! += 1;
    const expected = Array.from(weights, (w) => (draws * w) / d.totalWeight);
    const x2 = chiSquared(counts, expected);
    assert.ok(x2 < chiSquaredCritical001(49), `chi2 = ${x2}`);
    assert.ok(Math.abs(d.probabilityOf(3) - weights[3]! / d.totalWeight) < 1e-15);
  });

  it('draws the second sample of a batch from P renormalised without the first', () => {
    const d = new WeightedDistribution(weights, 1);
    const rng = new Rng(8);
    const observed = new Float64Array(50);
    const expected = new Float64Array(50);
    for (let n = 0; n < 40_000; n++) {
      const [first, second] = d.draw(10, rng);
      observed[second!]! += 1;
      const rest = d.totalWeight - weights[first!]!;
      for (let i = 0; i < 50; i++) if (i !== first) expected[i]! += weights[i]! / rest;
    }
    const x2 = chiSquared(observed, expected);
    assert.ok(x2 < chiSquaredCritical001(49), `chi2 = ${x2}`);
  });

  it('gives distinct samples, the whole set when b = N, and is unchanged by drawing', () => {
    // Extreme skew: a few samples carry nearly all the mass, which would stall rejection.
    const skewed = Float64Array.from({ length: 300 }, (_, i) => (i < 5 ? 1e12 : 1e-3));
    const d = new WeightedDistribution(skewed, 1e15);
    const a = d.draw(200, new Rng(4, 1));
    assert.equal(new Set(a).size, 200);
    assert.deepEqual(new Set(a.subarray(0, 5)), new Set([0, 1, 2, 3, 4]), 'the heavy samples come first');
    const all = d.draw(300, new Rng(5));
    assert.deepEqual([...all].sort((x, y) => x - y), [...Array(300).keys()]);
    assert.deepEqual(d.draw(200, new Rng(4, 1)), a, 'a batch depends only on the frozen P and the generator');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededPermutation } from '../../src/core/permutation.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { stepsPerEpoch } from '../../src/core/schedule.js';
import { permutationBatch } from '../../src/core/strategy.js';
import { chiSquared, chiSquaredCritical001 } from '../helpers/stats.js';

describe('SeededPermutation', () => {
  it('is a bijection of [0, n) for awkward sizes', () => {
    for (const n of [1, 2, 3, 5, 16, 17, 1000, 4097, 65_537]) {
      const p = new SeededPermutation(n, 7, n);
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) seen[p.at(i)]! += 1;
      assert.ok(seen.every((c) => c === 1), `n = ${n}`);
    }
  });

  it('depends on the seed words and only on them', () => {
    const order = (...seed: number[]) => Array.from({ length: 50 }, (_, i) => new SeededPermutation(50, ...seed).at(i));
    assert.deepEqual(order(1, 2), order(1, 2));
    assert.notDeepEqual(order(1, 2), order(1, 3));
    assert.notDeepEqual(order(1, 2), order(2, 2));
  });

  it('puts each sample at each position equally often across epochs (chi-squared, p = 0.001)', () => {
    // n = 12 positions x 12 samples, 12,000 epochs: expected 1,000 per cell.
    const n = 12;
    const epochs = 12_000;
    const counts = new Float64Array(n * n);
    for (let e = 0; e < epochs; e++) {
      const p = new SeededPermutation(n, 99, e);
      for (let pos = 0; pos < n; pos++) counts[pos * n + p.at(pos)]! += 1;
    }
    const x2 = chiSquared(counts, new Float64Array(n * n).fill(epochs / n));
    assert.ok(x2 < chiSquaredCritical001((n - 1) * (n - 1)), `chi2 = ${x2}`);
  });

  it('makes consecutive positions independent (pairs of the first two positions, p = 0.001)', () => {
    const n = 8;
    const epochs = 28_000; // 56 ordered pairs, 500 expected each
    const counts = new Float64Array(n * n);
    for (let e = 0; e < epochs; e++) {
      const p = new SeededPermutation(n, 5, e);
      counts[p.at(0) * n + p.at(1)]! += 1;
    }
    const observed = [...counts].filter((_, i) => Math.floor(i / n) !== i % n);
    const x2 = chiSquared(observed, new Float64Array(observed.length).fill(epochs / observed.length));
    assert.ok(x2 < chiSquaredCritical001(observed.length - 1), `chi2 = ${x2}`);
  });

  it('makes consecutive positions independent on a large domain too (10 x 10 buckets, p = 0.001)', () => {
    const n = 5000;
    const epochs = 20_000;
    const counts = new Float64Array(100);
    for (let e = 0; e < epochs; e++) {
      const p = new SeededPermutation(n, 8, e);
      counts[Math.floor(p.at(0) / 500) * 10 + Math.floor(p.at(1) / 500)]! += 1;
    }
    // P(bucket a, bucket b) = 500 (500 - [a = b]) / (n (n - 1)).
    const expected = Array.from({ length: 100 }, (_, i) => (epochs * 500 * (500 - (i % 11 === 0 ? 1 : 0))) / (n * (n - 1)));
    const x2 = chiSquared(counts, expected);
    assert.ok(x2 < chiSquaredCritical001(99), `chi2 = ${x2}`);
  });
});

describe('warm-up permutation batches (spec section 5)', () => {
  it('serve every sample exactly once per epoch, the last batch holding the remainder', () => {
    const config = normalizeConfig({ datasetSize: 1000, numClasses: 10, batchSize: 64, epochs: 20 });
    for (const epoch of [0, 1, 9]) {
      const seen = new Uint8Array(1000);
      const sizes: number[] = [];
      for (let s = 0; s < stepsPerEpoch(config); s++) {
        const batch = permutationBatch(config, epoch, s);
        sizes.push(batch.length);
        for (const i of batch) seen[i]! += 1;
      }
      assert.ok(seen.every((c) => c === 1));
      assert.equal(sizes.at(-1), 1000 - 15 * 64);
    }
  });

  it('drop the remainder with drop_last, and differ between epochs', () => {
    const config = normalizeConfig({ datasetSize: 1000, numClasses: 10, batchSize: 64, epochs: 20, dropLast: true });
    assert.equal(stepsPerEpoch(config), 15);
    assert.ok([...Array(15).keys()].every((s) => permutationBatch(config, 0, s).length === 64));
    assert.notDeepEqual(permutationBatch(config, 0, 0), permutationBatch(config, 1, 0));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrozenDistribution } from '../../src/core/distribution.js';
import { Rng } from '../../src/core/random.js';
import { chiSquared, chiSquaredCritical001 } from '../helpers/stats.js';

// Three levels with F = 1 (level 0), 0 (level 1), 0.5 (level 2); 40, 100 and 60 samples.
const F = [1, 0, 0.5];
function levels(): Uint16Array {
  const level = new Uint16Array(200);
  for (let i = 0; i < 200; i++) level[i] = i < 40 ? 0 : i < 140 ? 1 : 2;
  return level;
}

describe('FrozenDistribution (spec section 3)', () => {
  it('gives P(i) = s^F(i) / sum_j s^F(j): the most uncertain exactly s times a certain one', () => {
    const d = new FrozenDistribution(levels(), F, 10);
    const total = 40 * 10 + 100 * 1 + 60 * Math.sqrt(10);
    assert.ok(Math.abs(d.probabilityOfLevel(0) - 10 / total) < 1e-15);
    assert.ok(Math.abs(d.probabilityOfLevel(1) - 1 / total) < 1e-15);
    assert.ok(Math.abs(d.probabilityOfLevel(2) - Math.sqrt(10) / total) < 1e-15);
    assert.equal(d.probabilityOfLevel(0) / d.probabilityOfLevel(1), 10);
  });

  it('draws single samples with frequencies proportional to s^F (chi-squared over 200 samples, p = 0.001)', () => {
    const s = 10;
    const d = new FrozenDistribution(levels(), F, s);
    const draws = 200_000;
    const rng = new Rng(2024);
    const counts = new Float64Array(200);
    for (let n = 0; n < draws; n++) counts[d.draw(1, rng)[0]!]! += 1;
    const expected = Array.from(levels(), (l) => (draws * s ** F[l]!) / d.totalWeight);
    const x2 = chiSquared(counts, expected);
    assert.ok(x2 < chiSquaredCritical001(199), `chi2 = ${x2}`);
  });

  it('draws b distinct samples per batch, successively from P renormalised', () => {
    const d = new FrozenDistribution(levels(), F, 100);
    const rng = new Rng(7);
    // The second pick of a batch, given the first, follows P without the first: check by level.
    const secondByLevel = new Float64Array(3);
    const expected = new Float64Array(3);
    const level = levels();
    for (let n = 0; n < 50_000; n++) {
      const batch = d.draw(32, rng);
      assert.equal(new Set(batch).size, 32);
      const first = batch[0]!;
      secondByLevel[level[batch[1]!]!]! += 1;
      const rest = d.totalWeight - 100 ** F[level[first]!]!;
      const counts = [40, 100, 60];
      counts[level[first]!]! -= 1;
      for (let l = 0; l < 3; l++) expected[l]! += (counts[l]! * 100 ** F[l]!) / rest;
    }
    const x2 = chiSquared(secondByLevel, expected);
    assert.ok(x2 < chiSquaredCritical001(2), `chi2 = ${x2}`);
  });

  it('returns a permutation when the batch is the whole data set', () => {
    const d = new FrozenDistribution(levels(), F, 50);
    const batch = d.draw(200, new Rng(3));
    assert.deepEqual([...batch].sort((a, b) => a - b), [...Array(200).keys()]);
  });

  it('is uniform at s = 1 and depends only on the generator state', () => {
    const d = new FrozenDistribution(levels(), F, 1);
    assert.ok(Math.abs(d.probabilityOfLevel(0) - 1 / 200) < 1e-15);
    const a = d.draw(50, new Rng(11, 5));
    d.draw(70, new Rng(12)); // other draws in between leave no trace
    assert.deepEqual(d.draw(50, new Rng(11, 5)), a);
  });

  it('groups only levels that have samples', () => {
    const level = new Uint16Array([3, 3, 0, 3]);
    const d = new FrozenDistribution(level, [1, 0.1, 0.2, 0], 4);
    assert.equal(d.groupCount, 2);
    assert.equal(d.probabilityOfLevel(1), 0);
  });

  it('draws the same batches after compact() (levels kept, grouping rebuilt on demand)', () => {
    const d = new FrozenDistribution(levels(), F, 30);
    const before = [d.draw(20, new Rng(9, 1)), d.draw(150, new Rng(9, 2))];
    const p = d.probabilityOf(150);
    d.compact();
    assert.deepEqual(d.levelOfSamples(), levels());
    assert.deepEqual([d.draw(20, new Rng(9, 1)), d.draw(150, new Rng(9, 2))], before);
    assert.equal(d.probabilityOf(150), p);
    assert.equal(p, d.probabilityOfLevel(2));
  });

  it('draws the same batches when a freeze reuses the grouping array a compacted epoch gave up', () => {
    const older = levels();
    const newer = Uint16Array.from(older, (l, i) => (i % 3 === 0 ? 2 : l === 2 ? 0 : l)); // other groups, same N
    const drawsOf = (d: FrozenDistribution) => [d.draw(20, new Rng(5, 1)), d.draw(150, new Rng(5, 2)), d.draw(200, new Rng(5, 3))];
    const reference = drawsOf(new FrozenDistribution(newer, F, 30)); // a freshly allocated array
    const d = new FrozenDistribution(older, F, 30);
    const before = drawsOf(d);
    d.compact(); // gives its grouping array up for the next freeze of N = 200
    const next = new FrozenDistribution(newer, F, 30);
    assert.deepEqual(drawsOf(next), reference);
    assert.deepEqual(next.levelOfSamples(), newer);
    // The compacted epoch rebuilds its own grouping (the spare is taken), and the two stay apart.
    assert.deepEqual(drawsOf(d), before);
    assert.deepEqual(d.levelOfSamples(), older);
    assert.deepEqual(drawsOf(next), reference);
  });

  it('draws a batch in bounded time however skewed P is: one unseen sample at s = 1e12 among 9,999 certain ones', { timeout: 10_000 }, () => {
    // Level 0 (F = 1): sample 0 alone, with 10^8 times the mass of all others together. Drawing by
    // rejection would redraw it ~10^8 times per further pick.
    const level = new Uint16Array(10_000).fill(1);
    level[0] = 0;
    const d = new FrozenDistribution(level, [1, 0], 1e12);
    const rng = new Rng(11);
    const batches = 300;
    const included = new Float64Array(10_000);
    for (let n = 0; n < batches; n++) {
      const batch = d.draw(100, rng);
      assert.equal(new Set(batch).size, 100, 'distinct');
      assert.equal(batch[0], 0, 'the heavy sample comes first (P > 1 - 1e-8)');
      for (const i of batch) included[i]! += 1;
    }
    // The other 99 picks are uniform over the 9,999 certain samples: each is in a batch with
    // probability 99 / 9,999. Chi-squared over 10 bins of 999/1,000 samples, p = 0.001.
    const bins = new Float64Array(10);
    for (let i = 1; i < 10_000; i++) bins[Math.min(9, Math.floor((i - 1) / 1000))]! += included[i]!;
    const expected = Array.from({ length: 10 }, (_, b) => (batches * 99 * (b === 9 ? 999 : 1000)) / 9_999);
    const x2 = chiSquared(bins, expected);
    assert.ok(x2 < chiSquaredCritical001(9), `chi2 = ${x2}`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { LevelKeyer, uncertainty, uncertaintyFromSum } from '../../src/core/uncertainty.js';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

describe('uncertainty F (spec section 2)', () => {
  it('is 0 when the last predictions agree, right or wrong', () => {
    assert.equal(uncertainty([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 10), 0);
    assert.equal(uncertainty([7], 10), 0);
  });

  it('matches hand-computed values for full windows', () => {
    // p = (1/2, 1/2): F = ln 2 / ln 10
    close(uncertainty([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 10), Math.log(2) / Math.log(10));
    close(uncertainty([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 10), 0.30102999566398114);
    // ten different labels among ten classes: the maximum, 1
    close(uncertainty([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10), 1);
    // counts (7, 2, 1): -(0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1) / ln 10
    close(uncertainty([4, 4, 4, 4, 4, 4, 4, 2, 2, 9], 10), 0.8018185525433373 / Math.log(10));
  });

  it('matches hand-computed values for partial windows', () => {
    // h = 3, counts (2, 1), k = 4: 0.6365141682948128 / ln 4
    close(uncertainty([3, 5, 3], 4), 0.6365141682948128 / Math.log(4));
    close(uncertainty([3, 5], 2), 1);
  });

  it('is 1 for an empty window, so unseen samples are never starved', () => {
    assert.equal(uncertainty([], 10), 1);
    assert.equal(uncertaintyFromSum(0, 0, 10), 1);
  });

  it('reaches at most log(q) / log(k) when k > q', () => {
    const tenDistinct = [0, 11, 22, 33, 44, 55, 66, 77, 88, 99];
    close(uncertainty(tenDistinct, 100), Math.log(10) / Math.log(100));
    close(uncertainty(tenDistinct, 100), 0.5);
  });
});

describe('LevelKeyer', () => {
  it('gives equal keys to windows with the same count multiset, in any order', () => {
    const keyer = new LevelKeyer(10);
    const a = keyer.key([1, 1, 2, 3, 3, 3, 4, 4, 4, 4], 0, 10);
    const b = keyer.key([9, 8, 9, 8, 9, 7, 9, 8, 0, 8], 0, 10); // 9 x4, 8 x4, 7 x1, 0 x1
    const c = keyer.key([4, 3, 4, 2, 3, 4, 1, 3, 4, 1], 0, 10);
    assert.equal(a, c);
    assert.notEqual(a, b); // (4, 4, 1, 1) is not (4, 3, 2, 1)
  });

  it('computes the same F as the reference formula for random windows', () => {
    const rng = new Rng(42);
    for (const [q, k] of [[10, 10], [10, 3], [5, 100], [32, 40], [1, 2]] as const) {
      const keyer = new LevelKeyer(q);
      for (let trial = 0; trial < 2000; trial++) {
        const h = rng.nextInt(q + 1);
        const window = Array.from({ length: h }, () => rng.nextInt(k));
        keyer.key(window, 0, h);
        close(uncertaintyFromSum(h, keyer.lastSumCLnC(), k), uncertainty(window, k), 1e-12);
      }
    }
  });

  it('reproduces the spec: 39 distinct F for full windows of q = 10, 107 counting partial ones', () => {
    // Every count multiset (partition) of h <= 10 as a window, with k = 10 classes.
    const partitions = (n: number, max: number): number[][] =>
      n === 0 ? [[]] : Array.from({ length: Math.min(n, max) }, (_, i) => i + 1).flatMap((part) =>
        partitions(n - part, part).map((rest) => [part, ...rest]));
    const keyer = new LevelKeyer(10);
    const distinctF = (h: number) => {
      const values = new Set<string>();
      for (const counts of partitions(h, h)) {
        const window = counts.flatMap((c, label) => Array<number>(c).fill(label));
        keyer.key(window, 0, h);
        values.add(uncertaintyFromSum(h, keyer.lastSumCLnC(), 10).toFixed(12));
      }
      return values;
    };
    assert.equal(partitions(10, 10).length, 42);
    assert.equal(distinctF(10).size, 39);
    const all = new Set<string>();
    for (let h = 1; h <= 10; h++) for (const f of distinctF(h)) all.add(f);
    assert.equal(all.size, 107);
  });

  it('has 43,820 count multisets for windows up to q = 32, so level ids fit 16 bits (why window <= 32)', () => {
    const p = new Array<number>(33).fill(0);
    p[0] = 1;
    for (let part = 1; part <= 32; part++) for (let n = part; n <= 32; n++) p[n]! += p[n - part]!;
    const multisets = p.reduce((sum, count) => sum + count, 0);
    assert.equal(multisets, 43_820);
    assert.ok(multisets < 65_536);
  });
});

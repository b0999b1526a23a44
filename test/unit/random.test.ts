import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashWords, Rng } from '../../src/core/random.js';
import { chiSquared, chiSquaredCritical001 } from '../helpers/stats.js';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference implementation from state (1, 2, 3, 4)', () => {
    const rng = Rng.fromState(1, 2, 3, 4);
    assert.deepEqual([0, 1, 2, 3].map(() => rng.nextU32()), [11520, 0, 5927040, 70819200]);
  });

  it('fills blocks with the same stream as single calls', () => {
    const a = new Rng(9, 1);
    const b = new Rng(9, 1);
    const block = new Uint32Array(1000);
    a.fill(block);
    assert.deepEqual([...block.slice(0, 5)], [0, 1, 2, 3, 4].map(() => b.nextU32()));
    for (let i = 5; i < 1000; i++) assert.equal(block[i], b.nextU32());
    assert.equal(a.nextU32(), b.nextU32());
  });

  it('gives unrelated, uniform streams for nearby seeds (chi-squared of nextInt(16), p = 0.001)', () => {
    for (const seed of [0, 1, 2]) {
      const counts = new Float64Array(16);
      const rng = new Rng(seed);
      for (let i = 0; i < 64_000; i++) counts[rng.nextInt(16)]! += 1;
      assert.ok(chiSquared(counts, new Float64Array(16).fill(4000)) < chiSquaredCritical001(15));
    }
    assert.notEqual(new Rng(0).nextU32(), new Rng(1).nextU32());
    assert.notEqual(hashWords(1, 2), hashWords(2, 1));
  });
});

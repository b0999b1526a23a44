import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shareOf } from '../../src/core/shares.js';

describe('rank shares', () => {
  it('are disjoint, in rank order, concatenate to the global batch, and differ in size by at most 1', () => {
    for (const [b, w] of [[256, 4], [10, 3], [7, 7], [5, 1], [3, 8]] as const) {
      const batch = Uint32Array.from({ length: b }, (_, i) => 1000 + i);
      const shares = Array.from({ length: w }, (_, r) => [...shareOf(batch, r, w)]);
      assert.deepEqual(shares.flat(), [...batch]);
      const sizes = shares.map((s) => s.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${b}/${w}: ${sizes}`);
      assert.ok(sizes.every((size, r) => r === 0 || size <= sizes[r - 1]!), 'larger shares go to lower ranks');
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_LEVEL, HistoryWindows } from '../../src/core/history.js';
import { Rng } from '../../src/core/random.js';
import { uncertainty } from '../../src/core/uncertainty.js';

describe('HistoryWindows (spec section 1)', () => {
  it('keeps the last q labels oldest first, and counts valid ones up to q', () => {
    const h = new HistoryWindows(3, 4, 10);
    assert.deepEqual(h.windowOf(1), []);
    assert.equal(h.level[1], EMPTY_LEVEL);
    assert.equal(h.uncertaintyOf(1), 1);
    for (const label of [5, 6, 7]) h.record([1], [label]);
    assert.deepEqual(h.windowOf(1), [5, 6, 7]);
    assert.equal(h.valid[1], 3);
    for (const label of [8, 9]) h.record([1], [label]);
    assert.deepEqual(h.windowOf(1), [6, 7, 8, 9]);
    assert.equal(h.valid[1], 4);
    assert.deepEqual(h.windowOf(0), []);
    assert.deepEqual(h.windowOf(2), []);
  });

  it('keeps each sample at the level of its current window (against the reference F)', () => {
    const rng = new Rng(1);
    // Keys are updated incrementally on record() and computed afresh by rebuildLevels(): the same
    // level ids after a rebuild mean the two agree exactly.
    for (const [q, k] of [[10, 10], [3, 1000], [10, 70_000], [1, 10], [32, 3]] as const) {
      const h = new HistoryWindows(50, q, k);
      for (let round = 0; round < 400; round++) {
        const sample = rng.nextInt(50);
        h.record([sample], [rng.nextInt(Math.min(k, q === 32 ? 3 : 4))]);
        const expected = uncertainty(h.windowOf(sample), k);
        assert.ok(Math.abs(h.uncertaintyOf(sample) - expected) < 1e-12, `${h.uncertaintyOf(sample)} vs ${expected}`);
      }
      const before = Uint16Array.from(h.level);
      const counts = [...h.levelCounts];
      h.rebuildLevels();
      assert.deepEqual(h.level, before);
      assert.deepEqual(h.levelCounts, counts);
    }
  });

  it('stores labels as compactly as k allows', () => {
    assert.ok(new HistoryWindows(1, 2, 256).labels instanceof Uint8Array);
    assert.ok(new HistoryWindows(1, 2, 257).labels instanceof Uint16Array);
    assert.ok(new HistoryWindows(1, 2, 70_000).labels instanceof Uint32Array);
  });
});

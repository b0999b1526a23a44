// The pure pieces behind the inspection API: paging by a counting sort, per-level counts kept on
// every report, histograms from them, and draw counting once per step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryWindows } from '../../src/core/history.js';
import { pageByKey } from '../../src/core/paging.js';
import { Rng } from '../../src/core/random.js';
import { SampleActivity } from '../../src/core/sample-activity.js';
import { uncertainty } from '../../src/core/uncertainty.js';
import { binOf, uncertaintySummary } from '../../src/core/uncertainty-summary.js';

describe('pageByKey', () => {
  it('returns the page of the order (key, then index) that a full sort gives', () => {
    const rng = new Rng(1);
    const keys = Array.from({ length: 500 }, () => rng.nextInt(7));
    const sorted = [...keys.keys()].sort((a, b) => keys[a]! - keys[b]! || a - b);
    for (const [offset, limit] of [[0, 10], [37, 50], [490, 50], [500, 10], [0, 500]] as const) {
      assert.deepEqual([...pageByKey(500, (i) => keys[i]!, 7, offset, limit)], sorted.slice(offset, offset + limit), `${offset}+${limit}`);
    }
  });
});

describe('per-level counts and the F histogram', () => {
  it('keeps counts equal to a recount after every report, and bins F by tenths', () => {
    const h = new HistoryWindows(300, 4, 5);
    const rng = new Rng(2);
    for (let report = 0; report < 200; report++) {
      const indices = Array.from({ length: 20 }, () => rng.nextInt(300));
      h.record(indices, indices.map(() => rng.nextInt(5)));
    }
    const kept = [...h.levelCounts];
    h.recountLevels();
    assert.deepEqual(kept, h.levelCounts);
    const summary = uncertaintySummary(h);
    const expected = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < 300; i++) {
      const f = h.valid[i] === 0 ? 1 : uncertainty(h.windowOf(i), 5);
      expected[binOf(f)] += 1;
      sum += f;
    }
    assert.deepEqual(summary.histogram, expected);
    assert.ok(Math.abs(summary.meanUncertainty - sum / 300) < 1e-9);
    assert.equal(summary.neverSeen, [...h.valid].filter((v) => v === 0).length);
    assert.equal(binOf(1), 9);
    assert.equal(binOf(0.1), 1);
  });
});

describe('SampleActivity', () => {
  it('counts each step once, in any order, and remembers which steps it counted', () => {
    const a = new SampleActivity(5);
    a.countDraws(2, Uint32Array.of(0, 1));
    a.countDraws(0, Uint32Array.of(1, 2));
    a.countDraws(2, Uint32Array.of(0, 1)); // again: ignored
    assert.deepEqual([...a.drawn], [1, 2, 1, 0, 0]);
    assert.deepEqual(a.countedSteps, { below: 1, above: [2] });
    a.countDraws(1, Uint32Array.of(4));
    assert.deepEqual(a.countedSteps, { below: 3, above: [] });
    assert.equal(a.batchesCounted, 3);
    a.recordReport(7, Uint32Array.of(3));
    a.recordReport(4, Uint32Array.of(3));
    assert.equal(a.lastReported[3], 8, 'last reported step + 1, the latest step wins');
  });
});

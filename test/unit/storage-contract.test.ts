// One contract suite that every Storage implementation must pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import type { Snapshot, Storage } from '../../src/storage/storage.js';
import { tempDbPath } from '../helpers/temp.js';

const config = normalizeConfig({ datasetSize: 4, numClasses: 3, batchSize: 2, epochs: 12 });
const report = (step: number, rank: number, first: number) => ({
  step,
  rank,
  indices: Uint32Array.of(first, first + 1),
  labels: Uint32Array.of(2, 1),
});

const implementations: [string, (t: { after: (fn: () => void) => void }) => Storage][] = [
  ['MemoryStorage', () => new MemoryStorage()],
  ['SqliteStorage', (t) => new SqliteStorage(tempDbPath(t))],
];

for (const [name, open] of implementations) {
  describe(`Storage contract: ${name}`, () => {
    it('stores samplers with their config and refuses a duplicate name', (t) => {
      const s = open(t);
      const a = s.insertSampler('a', config, '2026-01-01T00:00:00.000Z');
      s.insertSampler('b', config, '2026-01-02T00:00:00.000Z');
      assert.deepEqual(s.loadSamplers().map((x) => [x.name, x.config, x.createdAt]), [
        ['a', config, '2026-01-01T00:00:00.000Z'],
        ['b', config, '2026-01-02T00:00:00.000Z'],
      ]);
      assert.throws(() => s.insertSampler('a', config, 'x'), /UNIQUE/);
      assert.equal(s.loadSamplers()[0]?.id, a.id);
      s.close();
    });

    it('keeps the first batch of each (sampler, step) and knows the highest step stored', (t) => {
      const s = open(t);
      const { id } = s.insertSampler('a', config, 'x');
      const other = s.insertSampler('b', config, 'x').id;
      assert.equal(s.findBatch(id, 3), undefined);
      assert.equal(s.highestBatchStep(id), -1);
      s.insertBatches([{ samplerId: id, batches: new Map([[3, { worldSize: 2, indices: Uint32Array.of(3, 1) }], [1, { worldSize: 1, indices: Uint32Array.of(0, 2) }]]) }]);
      s.insertBatches([{ samplerId: id, batches: new Map([[3, { worldSize: 1, indices: Uint32Array.of(0, 2) }]]) }]);
      assert.deepEqual(s.findBatch(id, 3), { worldSize: 2, indices: Uint32Array.of(3, 1) });
      assert.deepEqual(s.findBatch(id, 1), { worldSize: 1, indices: Uint32Array.of(0, 2) });
      assert.equal(s.highestBatchStep(id), 3);
      assert.equal(s.highestBatchStep(other), -1);
      s.close();
    });

    it('writes the batches of several samplers in one call, all or none', (t) => {
      const s = open(t);
      const a = s.insertSampler('a', config, 'x').id;
      const b = s.insertSampler('b', config, 'x').id;
      const one = (step: number, index: number) => new Map([[step, { worldSize: 1, indices: Uint32Array.of(index) }]]);
      s.insertBatches([{ samplerId: a, batches: one(0, 4) }, { samplerId: b, batches: one(0, 5) }]);
      assert.deepEqual([s.findBatch(a, 0)?.indices, s.findBatch(b, 0)?.indices], [Uint32Array.of(4), Uint32Array.of(5)]);
      // A write for a sampler that does not exist fails the whole call: the first write is not kept.
      assert.throws(() => s.insertBatches([{ samplerId: a, batches: one(1, 6) }, { samplerId: b + 100, batches: one(1, 7) }]));
      assert.equal(s.findBatch(a, 1), undefined);
      s.close();
    });

    it('appends reports in order, once per (step, rank), with their optional fields', (t) => {
      const s = open(t);
      const a = s.insertSampler('a', config, 'x').id;
      const b = s.insertSampler('b', config, 'x').id;
      const [first, second, again] = s.appendReports([
        { samplerId: a, report: { ...report(0, 0, 0), losses: Float32Array.of(0.5, 2) } },
        { samplerId: a, report: report(0, 1, 2) },
        { samplerId: a, report: report(0, 1, 0) },
      ]);
      assert.ok(first !== undefined && second !== undefined && second > first);
      assert.equal(again, undefined, 'same (step, rank) twice in one call');
      assert.deepEqual(s.appendReports([{ samplerId: a, report: report(0, 0, 1) }]), [undefined], 'same (step, rank) again');
      assert.ok(s.appendReports([{ samplerId: b, report: report(0, 0, 0) }])[0] !== undefined, 'other samplers are independent');
      const logged = [...s.reportsAfter(a, 0)];
      assert.deepEqual(logged.map((r) => [r.seq, r.step, r.rank, [...r.indices], [...r.labels]]), [
        [first, 0, 0, [0, 1], [2, 1]],
        [second, 0, 1, [2, 3], [2, 1]],
      ]);
      assert.deepEqual(logged[0]?.losses, Float32Array.of(0.5, 2));
      assert.equal(logged[1]?.losses, undefined);
      assert.deepEqual([...s.reportsAfter(a, first)].map((r) => r.seq), [second]);
      s.close();
    });

    it('records freeze points and replaces the snapshot', (t) => {
      const s = open(t);
      const id = s.insertSampler('a', config, 'x').id;
      s.recordFreeze(id, { epoch: 11, seq: 40 });
      s.recordFreeze(id, { epoch: 10, seq: 7 });
      assert.deepEqual(s.loadFreezes(id), [{ epoch: 10, seq: 7 }, { epoch: 11, seq: 40 }]);
      assert.equal(s.loadSnapshot(id), undefined);
      // What the state encodes (src/core/sampler-state.ts) is kept as it is: header and byte parts.
      const snapshot: Snapshot = {
        seq: 9,
        meta: JSON.stringify({ reportsReceived: 4, frozen: [{ epoch: 10, kind: 'level' }] }),
        parts: new Map([
          ['labels', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
          ['frozen.10', new Uint8Array(Uint16Array.of(0, 1, 0, 2).buffer)],
          ['empty', new Uint8Array(0)],
        ]),
      };
      s.writeSnapshot(id, snapshot);
      assert.deepEqual(s.loadSnapshot(id), snapshot);
      const next: Snapshot = { seq: 12, meta: '{}', parts: new Map([['latestLoss', new Uint8Array(Float32Array.of(0.5, Number.NaN).buffer)]]) };
      s.writeSnapshot(id, next);
      assert.deepEqual(s.loadSnapshot(id), next, 'replaced whole: parts of the old snapshot are gone');
      s.close();
    });

    it('lists stored batches from a step on, in step order, and keeps epoch statistics', (t) => {
      const s = open(t);
      const id = s.insertSampler('a', config, 'x').id;
      s.insertBatches([{ samplerId: id, batches: new Map([[7, { worldSize: 1, indices: Uint32Array.of(7) }], [2, { worldSize: 1, indices: Uint32Array.of(2) }], [5, { worldSize: 2, indices: Uint32Array.of(5, 6) }]]) }]);
      assert.deepEqual([...s.batchesFrom(id, 3)].map((b) => [b.step, [...b.indices]]), [[5, [5, 6]], [7, [7]]]);
      const stats = { epoch: 1, startedAt: '2026-01-01T00:00:00.000Z', pressure: 95, meanUncertainty: 0.25, neverSeen: 3, histogram: [1, 2, 0, 0, 0, 0, 0, 0, 0, 3] };
      s.recordEpochStats(id, { ...stats, epoch: 2 });
      s.recordEpochStats(id, stats);
      assert.deepEqual(s.loadEpochStats(id), [stats, { ...stats, epoch: 2 }]);
      s.close();
    });

    it('keeps each epoch state as first stored (levels or weights), and a batch row without indices', (t) => {
      const s = open(t);
      const id = s.insertSampler('a', config, 'x').id;
      const level = Uint16Array.of(0, 3, 3, 1);
      s.storeEpochState(id, 11, { weights: Float64Array.of(0.5, 1, 2, 0.25) });
      s.storeEpochState(id, 10, { level });
      level[0] = 9; // stored, not referenced
      s.storeEpochState(id, 10, { level: Uint16Array.of(1, 1, 1, 1) }); // an epoch's state never changes
      assert.deepEqual(s.storedEpochStates(id), [10, 11]);
      assert.deepEqual(s.loadEpochState(id, 10), { level: Uint16Array.of(0, 3, 3, 1) });
      assert.deepEqual(s.loadEpochState(id, 11), { weights: Float64Array.of(0.5, 1, 2, 0.25) });
      assert.equal(s.loadEpochState(id, 12), undefined);
      s.insertBatches([{ samplerId: id, batches: new Map([[3, { worldSize: 2, indices: new Uint32Array(0) }]]) }]);
      assert.deepEqual(s.findBatch(id, 3), { worldSize: 2, indices: new Uint32Array(0) });
      s.close();
    });

    it('deletes a sampler with everything recorded for it', (t) => {
      const s = open(t);
      const id = s.insertSampler('a', config, 'x').id;
      s.insertBatches([{ samplerId: id, batches: new Map([[0, { worldSize: 1, indices: Uint32Array.of(0, 1) }]]) }]);
      s.storeEpochState(id, 10, { level: Uint16Array.of(0, 1, 0, 1) });
      s.appendReports([{ samplerId: id, report: report(0, 0, 0) }]);
      s.deleteSampler(id);
      assert.deepEqual(s.loadSamplers(), []);
      const again = s.insertSampler('a', config, 'x').id;
      assert.equal(s.findBatch(again, 0), undefined);
      assert.deepEqual(s.storedEpochStates(again), []);
      assert.deepEqual([...s.reportsAfter(again, 0)], []);
      s.close();
    });
  });
}

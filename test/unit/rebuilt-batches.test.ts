// A served batch is committed as its step and world size alone, and rebuilt when read back: from
// its epoch's P while held, else from the epoch's stored state. Nothing a client sees changes,
// across restarts and for epochs long let go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { SamplerService } from '../../src/service/sampler-service.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const log = pino({ level: 'silent' });
const model = { numClasses: 4, uncertainEvery: 3, seed: 5 };
// 10 steps an epoch; epochs 0 and 1 warm up, 2 to 5 draw from P (two are held at a time).
const STEPS_PER_EPOCH = 10;

for (const strategy of ['RECENCY_BIAS', 'ONLINE_BATCH'] as const) {
  const config = { datasetSize: 200, numClasses: 4, batchSize: 20, epochs: 7, window: 3, warmupEpochs: 2, seed: 4, strategy };

  describe(`${strategy}: batches rebuilt from their epoch`, () => {
    // No quiet time (one call at a time): an epoch let go is stored before the next snapshot, or,
    // with none, by the recovery that replays it.
    for (const [snapshots, snapshotEveryPredictions] of [['no snapshot', 1e9], ['snapshots', 150]] as const) {
      it(`are served as first drawn after a crash, in epochs let go too, with draws counted once and late reports taken (${snapshots})`, (t) => {
        const path = tempDbPath(t);
        const first = new SqliteStorage(path);
        const service = new SamplerService(first, log, { snapshotEveryPredictions });
        service.create('run', config);
        const served: Uint32Array[][] = [];
        for (let step = 0; step < 6 * STEPS_PER_EPOCH; step++) {
          const shares = [0, 1].map((rank) => service.nextBatch({ sampler: 'run', step, rank, worldSize: 2 }).indices);
          served.push(shares);
          // Rank 1 never reports step 25 (epoch 2): it is reported after the restart.
          for (const rank of [0, 1]) {
            if (step === 25 && rank === 1) continue;
            const indices = shares[rank]!;
            const losses = Array.from(indices, (i) => ((i * 31 + step * 7) % 50) / 10);
            service.report({ sampler: 'run', step, rank, indices, predictedLabels: predictBatch(model, indices, step), losses });
          }
        }
        const drawn = [...service.inspect('run').state.activity.drawn];
        const id = first.loadSamplers()[0]!.id;
        const { state } = service.inspect('run');
        assert.deepEqual([3, 4, 5].map((epoch) => state.held(epoch) !== undefined), [false, true, true]);
        if (snapshots === 'snapshots') assert.ok(first.loadSnapshot(id), 'no snapshot was written');
        for (let step = 0; step < served.length; step++) assert.equal(first.findBatch(id, step)!.indices.length, 0, `step ${step}'s row holds indices`);
        first.close(); // a crash: no shutdown snapshot

        const storage = new SqliteStorage(path);
        t.after(() => storage.close());
        const after = new SamplerService(storage, log);
        assert.deepEqual(storage.storedEpochStates(id), [2, 3], 'the epochs let go, as they were');
        assert.deepEqual([...after.inspect('run').state.activity.drawn], drawn, 'draws counted once');
        const indices = served[25]![1]!;
        assert.deepEqual(after.report({ sampler: 'run', step: 25, rank: 1, indices, predictedLabels: predictBatch(model, indices, 25), losses: Array.from(indices, () => 1) }), {
          accepted: indices.length,
          duplicate: false,
        });
        for (let step = 0; step < served.length; step++) {
          const shares = [0, 1].map((rank) => after.nextBatch({ sampler: 'run', step, rank, worldSize: 2 }).indices);
          assert.deepEqual(shares, served[step], `step ${step}`);
        }
        assert.throws(() => after.nextBatch({ sampler: 'run', step: 21, worldSize: 1 }), /step 21 was split among 2 ranks/);
      });
    }
  });

  it(`${strategy}: an epoch's state is stored in quiet time once the epoch is served`, async (t) => {
    const storage = new SqliteStorage(tempDbPath(t));
    t.after(() => storage.close());
    const service = new SamplerService(storage, log, { quietMs: 2 });
    t.after(() => service.close());
    service.create('run', config);
    const id = storage.loadSamplers()[0]!.id;
    for (let step = 0; step < 2 * STEPS_PER_EPOCH + 3; step++) {
      const { indices } = await service.nextBatchGrouped({ sampler: 'run', step });
      service.report({ sampler: 'run', step, indices, predictedLabels: predictBatch(model, indices, step), losses: Array.from(indices, () => 1) });
    }
    for (let waited = 0; waited < 2000 && storage.storedEpochStates(id).length === 0; waited += 10) await sleep(10);
    assert.deepEqual(storage.storedEpochStates(id), [2], 'the first adaptive epoch, with nothing let go');
  });
}

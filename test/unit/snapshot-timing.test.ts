// When snapshots are written: never inside the report call that makes one due (with N
// predictions an epoch's, that is often an epoch's last report, which the boundary waits for),
// nor after an epoch's first batches, but after a later fetch; inline only when reports go on
// without fetches.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SamplerService } from '../../src/service/sampler-service.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const log = pino({ level: 'silent' });
// O(N) idle work waits until no call was answered for QUIET_MS: long here, so that the turns
// right after an answer are told apart from quiet time on any machine.
const QUIET_MS = 100;
const quiet = () => sleep(3 * QUIET_MS);
// 10 steps of 20 per epoch: a snapshot falls due every 200 predictions, at each epoch's last report.
const config = { datasetSize: 200, numClasses: 5, batchSize: 20, epochs: 6, window: 3, warmupEpochs: 1, seed: 1 };

function open(t: { after: (fn: () => void) => void }) {
  const storage = new SqliteStorage(tempDbPath(t));
  const service = new SamplerService(storage, log, { snapshotEveryPredictions: 200, quietMs: QUIET_MS });
  t.after(() => storage.close());
  const { id } = service.inspect(service.create('run', config).name).stored;
  return { storage, service, id, snapshotAt: () => storage.loadSnapshot(id)?.seq ?? -1 };
}

function train(service: SamplerService, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    const { indices } = service.nextBatch({ sampler: 'run', step });
    service.report({ sampler: 'run', step, indices, predictedLabels: Array.from(indices, (i) => (i * step) % 5) });
  }
}

describe('snapshot timing', () => {
  it('writes a due snapshot after a fetch past the epoch\'s first batches, not in the report call', async (t) => {
    const { service, snapshotAt } = open(t);
    train(service, 0, 10); // the epoch's last report makes the first snapshot due
    assert.equal(service.inspect('run').state.predictionsReceived, 200);
    await quiet();
    assert.equal(snapshotAt(), -1, 'not written by the report call, nor in idle time before a fetch');
    service.nextBatches({ sampler: 'run', step: 10, count: 2 });
    await quiet();
    assert.equal(snapshotAt(), -1, 'not after the epoch\'s first batches: the trainer waits for them');
    service.nextBatches({ sampler: 'run', step: 12, count: 2 });
    assert.equal(snapshotAt(), -1, 'the batches are answered first');
    // grpc-js writes an answer's message, then its trailers, over several turns: an O(N) write
    // queued in between (the turn after, as before) held the answer back by its whole duration.
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    assert.equal(snapshotAt(), -1, 'not in the turns right after the answer');
    await quiet();
    assert.equal(snapshotAt(), 10, 'written once no call was answered for quietMs: the windows as of report 10');
  });

  it('writes it in time under calls that never leave the service quiet', async (t) => {
    const storage = new SqliteStorage(tempDbPath(t));
    t.after(() => storage.close());
    // Quiet means 10 ms without an answer here, so a fetch every 2 ms never leaves it quiet.
    const service = new SamplerService(storage, log, { snapshotEveryPredictions: 200, quietMs: 10 });
    const { id } = service.inspect(service.create('run', config).name).stored;
    train(service, 0, 10);
    service.nextBatches({ sampler: 'run', step: 10, count: 2 });
    const started = performance.now();
    for (let i = 0; storage.loadSnapshot(id) === undefined && performance.now() - started < 5000; i++) {
      service.nextBatch({ sampler: 'run', step: 12 + (i % 48) }); // answered again once served: still an answer
      await sleep(2);
    }
    const waited = performance.now() - started;
    assert.equal(storage.loadSnapshot(id)?.seq, 10, 'written while the fetches went on, not left to an inline write');
    assert.ok(waited < 2000, `after about 50 times quietMs (${waited.toFixed(0)} ms)`);
  });

  it('writes it inline when reports go on to twice the interval without a fetch', (t) => {
    const { service, snapshotAt } = open(t);
    const served = [];
    for (let step = 0; step < 20; step++) served.push(service.nextBatch({ sampler: 'run', step }));
    for (const [step, { indices }] of served.entries()) {
      service.report({ sampler: 'run', step, indices, predictedLabels: Array.from(indices, () => 0) });
      assert.equal(snapshotAt(), step < 19 ? -1 : 20, `after report ${step + 1}`);
    }
  });

  it('a due snapshot is written at shutdown', async (t) => {
    const { service, snapshotAt } = open(t);
    train(service, 0, 10);
    service.close();
    assert.equal(snapshotAt(), 10);
  });
});

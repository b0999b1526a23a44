// Work the service does outside a call (drawing ahead, writing batches) must never throw out of
// its callback: an uncaught exception there would take the whole process down.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import { SamplerService } from '../../src/service/sampler-service.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

describe('background work', () => {
  it('logs, and does not throw, when storage fails under a pending draw-ahead', async (t) => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const storage = new SqliteStorage(tempDbPath(t));
    const service = new SamplerService(storage, pino({ level: 'error' }, sink));
    service.create('s', { datasetSize: 100, numClasses: 3, batchSize: 10, epochs: 2, warmupEpochs: 1 });
    service.nextBatch({ sampler: 's', step: 5 });
    service.nextBatch({ sampler: 's', step: 0 }); // drawing ahead will look up steps 1..4 in storage
    storage.close(); // the database goes away before the draw-ahead runs
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await tick();
      await tick();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
    assert.ok(lines.some((l) => l.msg === 'drawing ahead failed'), JSON.stringify(lines));
  });

  it('answers calls that shared a commit, and logs, when what follows the commit throws', async (t) => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const storage = new SqliteStorage(tempDbPath(t));
    t.after(() => storage.close());
    const events = { reports: () => {}, batchServed: () => { throw new Error('metrics broke'); } };
    const service = new SamplerService(storage, pino({ level: 'error' }, sink), { events });
    service.create('s', { datasetSize: 100, numClasses: 3, batchSize: 10, epochs: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const batches = await Promise.all([service.nextBatchGrouped({ sampler: 's', step: 0 }), service.nextBatchGrouped({ sampler: 's', step: 1 })]);
      assert.deepEqual(batches.map((b) => b.step), [0, 1]);
      await tick();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
    assert.ok(lines.some((l) => l.msg === 'applying committed batches failed'), JSON.stringify(lines));
    assert.ok(storage.findBatch(1, 1), 'the committed batch is stored');
  });
});

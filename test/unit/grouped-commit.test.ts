// NextBatch calls that arrive in one event-loop turn share one commit (the gRPC path): none is
// answered before its batches are committed, they agree with each other on every step, they
// serve exactly what one call at a time serves, and a failed commit fails all of them together,
// changing nothing.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { SamplerService, type BatchView } from '../../src/service/sampler-service.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { storageFailure } from '../../src/storage/storage-failure.js';
import { TimedStorage } from '../../src/storage/timed-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const log = pino({ level: 'silent' });
// Epoch 0 warms up, epochs 1 and 2 draw from P: calls cross into a frozen epoch too.
const config = { datasetSize: 400, numClasses: 4, batchSize: 40, epochs: 3, warmupEpochs: 1, seed: 3 };

function open(t: TestContext, maxPageCount?: number) {
  const sqlite = new SqliteStorage(tempDbPath(t), maxPageCount === undefined ? {} : { maxPageCount });
  const commits: string[] = [];
  const served: string[] = [];
  const events = { reports: () => {}, batchServed: (name: string) => served.push(name) };
  const service = new SamplerService(new TimedStorage(sqlite, (operation) => commits.push(operation)), log, { events });
  t.after(() => {
    service.close();
    sqlite.close();
  });
  return { sqlite, service, served, commits: () => commits.filter((op) => op === 'insertBatches').length };
}

/** The global batches a service serving one call at a time gives (rank 0 of 1). */
function reference(name: string, steps: readonly number[], input = config): string[] {
  const service = new SamplerService(new MemoryStorage(), log);
  service.create(name, input);
  return steps.map((step) => service.nextBatch({ sampler: name, step }).indices.join(','));
}

const joined = (batches: readonly BatchView[]) => batches.map((b) => b.indices.join(','));

describe('calls of one event-loop turn', () => {
  it('share one commit, answered only once their batches are stored', async (t) => {
    const { sqlite, service, commits } = open(t);
    service.create('a', config);
    service.create('b', config);
    const ids = new Map(sqlite.loadSamplers().map((s) => [s.name, s.id]));
    const stored = (name: string, batches: readonly BatchView[]) => batches.every((b) => sqlite.findBatch(ids.get(name)!, b.step) !== undefined);
    const answeredStored: boolean[] = [];
    const call = (name: string, promise: Promise<BatchView[]>) => promise.then((batches) => (answeredStored.push(stored(name, batches)), batches));

    // Steps 8..11 cross from the warm-up epoch into the first adaptive one (10 steps an epoch).
    const calls = [
      call('a', service.nextBatchesGrouped({ sampler: 'a', step: 0, count: 2 })),
      call('a', service.nextBatchGrouped({ sampler: 'a', step: 2 }).then((b) => [b])),
      call('a', service.nextBatchesGrouped({ sampler: 'a', step: 8, count: 4 })),
      call('b', service.nextBatchGrouped({ sampler: 'b', step: 0 }).then((b) => [b])),
    ];
    assert.equal(commits(), 0, 'committed inside the turn');
    assert.equal(sqlite.findBatch(ids.get('a')!, 0), undefined);
    const [first, second, crossing, other] = await Promise.all(calls);
    assert.equal(commits(), 1, 'one transaction for the turn');
    assert.deepEqual(answeredStored, [true, true, true, true], 'a call was answered before its batches were stored');

    assert.deepEqual([...joined(first!), ...joined(second!)], reference('a', [0, 1, 2]));
    assert.deepEqual(joined(crossing!), reference('a', [8, 9, 10, 11]));
    assert.deepEqual(joined(other!), reference('b', [0]));
    // Answered from the stored rows afterwards, as first served.
    assert.deepEqual(joined(service.nextBatches({ sampler: 'a', step: 0, count: 3 })), reference('a', [0, 1, 2]));
  });

  it('agree on a step two ranks ask for, and refuse a third split of it at once', async (t) => {
    const { service, commits, served } = open(t);
    service.create('a', config);
    const rank0 = service.nextBatchGrouped({ sampler: 'a', step: 12, rank: 0, worldSize: 2 });
    const rank1 = service.nextBatchGrouped({ sampler: 'a', step: 12, rank: 1, worldSize: 2 });
    // The step's split is pinned by the first call, committed or not.
    assert.throws(() => service.nextBatchGrouped({ sampler: 'a', step: 12, rank: 0, worldSize: 4 }), /world_size: step 12 was split among 2 ranks/);
    const [a, b] = await Promise.all([rank0, rank1]);
    assert.equal(commits(), 1);
    assert.deepEqual(served, ['a'], 'the step was served as new twice');
    const ref = new SamplerService(new MemoryStorage(), log);
    ref.create('a', config);
    const global = [0, 1].map((rank) => ref.nextBatch({ sampler: 'a', step: 12, rank, worldSize: 2 }).indices.join(','));
    assert.deepEqual([a!.indices.join(','), b!.indices.join(',')], global);
    assert.notEqual(a!.indices.join(','), b!.indices.join(','));
  });

  it('all fail when their commit fails, changing nothing, and the same calls succeed once there is space', async (t) => {
    const { sqlite, service } = open(t, 80); // 320 KB
    // The filler's reports take whole pages (16 KB each), which deleting it frees.
    service.create('filler', { ...config, datasetSize: 20_000, batchSize: 2000, epochs: 10, warmupEpochs: 10 });
    for (let step = 0; step < 4; step++) {
      const { indices } = service.nextBatch({ sampler: 'filler', step });
      service.report({ sampler: 'filler', step, indices, predictedLabels: Array.from(indices, () => 0) });
    }
    // A batch row holds no indices (the batch is rebuilt): many small rows fill the rest.
    const small = { ...config, datasetSize: 20_000, batchSize: 20, epochs: 10, warmupEpochs: 10 };
    service.create('job', small);
    const id = sqlite.loadSamplers().find((s) => s.name === 'job')!.id;
    let step = 0;
    let refused: PromiseSettledResult<BatchView>[] | undefined;
    while (!refused) {
      assert.ok(step < 9000, 'the disk never filled');
      const results = await Promise.allSettled([0, 1, 2].map((i) => service.nextBatchGrouped({ sampler: 'job', step: step + i })));
      if (results.every((r) => r.status === 'fulfilled')) step += 3;
      else refused = results;
    }
    for (const result of refused) {
      assert.equal(result.status, 'rejected', 'a call of the failed turn was answered');
      assert.equal(storageFailure((result as PromiseRejectedResult).reason)?.kind, 'resource_exhausted');
    }
    for (let i = 0; i < 3; i++) assert.equal(sqlite.findBatch(id, step + i), undefined);
    assert.equal(service.inspect('job').lastServedStep, step - 1, 'the failed calls moved the run on');

    service.delete('filler'); // frees pages
    const retried = await Promise.all([0, 1, 2].map((i) => service.nextBatchGrouped({ sampler: 'job', step: step + i })));
    assert.deepEqual(joined(retried), reference('job', [step, step + 1, step + 2], small));
    for (let i = 0; i < 3; i++) assert.ok(sqlite.findBatch(id, step + i), `step ${step + i} was answered but not stored`);
    assert.equal(service.inspect('job').lastServedStep, step + 2);
  });
});

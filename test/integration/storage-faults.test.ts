// Storage failures a client can wait out: a full disk (--max-db-mb, SQLite's max_page_count,
// standing in for it) answers RESOURCE_EXHAUSTED naming the storage, changes nothing, and the very same call
// succeeds once there is space again.
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { startTestServer } from '../helpers/server.js';
import { stateHash } from '../helpers/state-hash.js';

const model = { numClasses: 4, uncertainEvery: 3, seed: 5 };

describe('a full disk', () => {
  it('answers RESOURCE_EXHAUSTED, changes nothing, and the same call succeeds once space is freed', async (t) => {
    const { app, client } = await startTestServer(t, undefined, { maxDbMb: 80 / 256 } /* 80 pages */);
    // Something to delete later: about 40 pages of batches and reports.
    await client.createSampler('filler', { datasetSize: 5000, numClasses: 4, batchSize: 1000, epochs: 2 });
    for (let step = 0; step < 5; step++) {
      const { indices } = await client.nextBatch({ sampler: 'filler', step });
      await client.reportPredictions({ sampler: 'filler', step, indices, predictedLabels: predictBatch(model, indices, step) });
    }
    await client.createSampler('job', { datasetSize: 10_000, numClasses: 4, batchSize: 500, epochs: 3 });
    // Train until the disk is full: the call that fails is a NextBatch or a report.
    let failed: { name: string; call: () => Promise<unknown>; retry: (c: SamplerClient) => Promise<unknown>; error: ServiceError } | undefined;
    const attempt = async <T>(name: string, call: (c: SamplerClient) => Promise<T>): Promise<T | undefined> => {
      const before = await stateHash(app, ['job']);
      try {
        return await call(client);
      } catch (error) {
        failed = { name, call: () => call(client), retry: call, error: error as ServiceError };
        assert.equal(await stateHash(app, ['job']), before, `the refused ${name} changed the state`);
        return undefined;
      }
    };
    for (let step = 0; step < 60 && !failed; step++) {
      const batch = await attempt('NextBatch', (c) => c.nextBatch({ sampler: 'job', step }));
      if (!batch) break;
      const predictedLabels = predictBatch(model, batch.indices, step);
      await attempt('report', (c) => c.reportPredictions({ sampler: 'job', step, indices: batch.indices, predictedLabels }));
    }
    assert.ok(failed, 'the disk never filled');
    assert.equal(status[failed.error.code], 'RESOURCE_EXHAUSTED', failed.error.details);
    assert.match(failed.error.details, /^storage: the disk holding the database is full \(SQLITE_FULL\); nothing was recorded/);
    const stateWhenFull = await stateHash(app, ['job']);
    await assert.rejects(failed.call(), (e: ServiceError) => e.code === status.RESOURCE_EXHAUSTED, 'still full');
    assert.equal(await stateHash(app, ['job']), stateWhenFull, 'the refused calls changed nothing');
    // The service keeps answering reads meanwhile.
    assert.equal((await fetch(`http://127.0.0.1:${app.httpPort}/healthz`)).status, 200);

    // A client that retries waits the full disk out: space is freed half a second into its retries.
    const patient = new SamplerClient(`127.0.0.1:${app.grpcPort}`, { retryTimeoutMs: 10_000, maxBackoffMs: 100 });
    t.after(() => patient.close());
    const started = performance.now();
    setTimeout(() => void client.deleteSampler('filler'), 500); // frees pages
    const answer = (await failed.retry(patient)) as { duplicate?: boolean };
    assert.ok(performance.now() - started >= 500, 'answered before space was freed');
    if (failed.name === 'report') assert.equal(answer.duplicate, false, 'the refused report was not recorded before');
    t.diagnostic(`the disk filled on a ${failed.name}`);
  });
});

// The contract through real gRPC against the real server.
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { startTestServer } from '../helpers/server.js';

const config = { datasetSize: 1000, numClasses: 10, batchSize: 64, epochs: 6, warmupEpochs: 2, window: 2, seed: 5 };
const model = { numClasses: 10, uncertainEvery: 3, seed: 1 };

async function rejectsWith(promise: Promise<unknown>, code: status, message: RegExp) {
  await assert.rejects(promise, (e: ServiceError) => {
    assert.equal(status[e.code], status[code], e.details);
    assert.match(e.details, message);
    return true;
  });
}

describe('samplers', () => {
  it('are created idempotently: same config returns the existing one, a different one is ALREADY_EXISTS', async (t) => {
    const { client } = await startTestServer(t);
    const created = await client.createSampler('exp-1', config);
    assert.equal(created.stepsPerEpoch, 16);
    assert.equal(created.totalSteps, 96);
    assert.equal(created.config?.initialPressure, 100, 'defaults are filled in');
    const again = await Promise.all([0, 1, 2, 3].map(() => client.createSampler('exp-1', config)));
    for (const s of again) assert.deepEqual(s, created);
    await rejectsWith(client.createSampler('exp-1', { ...config, seed: 6 }), status.ALREADY_EXISTS, /^name: .*seed: 5 != 6/);
    assert.deepEqual(await client.getSampler('exp-1'), created);
  });

  it('are listed, isolated from one another, and deleted', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('a', config);
    await client.createSampler('b', { ...config, strategy: 'RANDOM' });
    assert.deepEqual((await client.listSamplers()).map((s) => s.name), ['a', 'b']);
    const a = await client.nextBatch({ sampler: 'a', step: 0 });
    const b = await client.nextBatch({ sampler: 'b', step: 0 });
    assert.equal(b.phase, 'SHUFFLE');
    await client.reportPredictions({ sampler: 'a', step: 0, indices: a.indices, predictedLabels: predictBatch(model, a.indices, 0) });
    await client.deleteSampler('a');
    await rejectsWith(client.getSampler('a'), status.NOT_FOUND, /^name: no sampler named "a"/);
    await rejectsWith(client.nextBatch({ sampler: 'a', step: 0 }), status.NOT_FOUND, /^sampler: /);
    assert.deepEqual(await client.nextBatch({ sampler: 'b', step: 0 }), b);
    // A new sampler under the old name starts from nothing.
    await client.createSampler('a', config);
    const report = { sampler: 'a', step: 0, indices: [1], predictedLabels: [1] };
    await rejectsWith(client.reportPredictions(report), status.FAILED_PRECONDITION, /^step: step 0 has not been served/);
  });
});

describe('NextBatch with 4 ranks', () => {
  it('gives disjoint shares forming one batch, for steps asked ahead and out of order, stable on repeat', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('ddp', config);
    const requests = [];
    for (let step = 0; step < 96; step++) for (let rank = 0; rank < 4; rank++) requests.push({ step, rank });
    // Shuffled within windows of 12 steps x 4 ranks: ranks drift apart and prefetch ahead.
    const rng = new Rng(77);
    for (let start = 0; start < requests.length; start += 48) {
      for (let i = Math.min(start + 48, requests.length) - 1; i > start; i--) {
        const j = start + rng.nextInt(i - start + 1);
        [requests[i], requests[j]] = [requests[j]!, requests[i]!];
      }
    }
    const shares = new Map<string, number[]>();
    // 16 calls in flight at a time, in shuffled order.
    for (let i = 0; i < requests.length; i += 16) {
      await Promise.all(
        requests.slice(i, i + 16).map(async ({ step, rank }) => {
          const batch = await client.nextBatch({ sampler: 'ddp', step, rank, worldSize: 4 });
          assert.equal(batch.epoch, Math.floor(step / 16));
          assert.equal(batch.phase, step < 32 ? 'WARMUP' : 'ADAPTIVE');
          shares.set(`${step}/${rank}`, batch.indices);
        }),
      );
    }
    for (let step = 0; step < 96; step++) {
      const parts = [0, 1, 2, 3].map((rank) => shares.get(`${step}/${rank}`)!);
      const global = parts.flat();
      const expectedSize = step % 16 === 15 && step < 32 ? 1000 - 15 * 64 : 64;
      assert.equal(global.length, expectedSize, `step ${step}`);
      assert.equal(new Set(global).size, global.length, `step ${step}: shares overlap`);
      assert.deepEqual(parts.map((p) => p.length), [0, 1, 2, 3].map((r) => Math.floor(expectedSize / 4) + (r < expectedSize % 4 ? 1 : 0)));
    }
    for (const key of ['5/2', '40/0', '95/3']) {
      const [step, rank] = key.split('/').map(Number);
      const again = await client.nextBatch({ sampler: 'ddp', step: step!, rank: rank!, worldSize: 4 });
      assert.deepEqual(again.indices, shares.get(key));
    }
    // Warm-up epochs are permutations: every sample once.
    const epoch0 = [...shares].filter(([k]) => Number(k.split('/')[0]) < 16).flatMap(([, v]) => v);
    assert.deepEqual(epoch0.sort((x, y) => x - y), [...Array(1000).keys()]);
    await rejectsWith(client.nextBatch({ sampler: 'ddp', step: 3, rank: 0, worldSize: 2 }), status.FAILED_PRECONDITION, /^world_size: step 3 was split among 4/);
  });
});

describe('NextBatch far behind', () => {
  it('refuses, naming the limit, a step two adaptive epochs behind that no rank has drawn', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('lag', config);
    await client.nextBatch({ sampler: 'lag', step: 32 }); // epoch 2 frozen
    await client.nextBatch({ sampler: 'lag', step: 48 }); // epoch 3
    await client.nextBatch({ sampler: 'lag', step: 64 }); // epoch 4: epoch 2 is let go
    await rejectsWith(client.nextBatch({ sampler: 'lag', step: 33 }), status.FAILED_PRECONDITION, /^step: epoch 2's distribution is no longer held/);
    // Steps already drawn are always served.
    assert.equal((await client.nextBatch({ sampler: 'lag', step: 32 })).epoch, 2);
  });
});

describe('ReportPredictions', () => {
  it('is acknowledged once per (step, rank); a retry is flagged duplicate and not counted twice', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('r', config);
    const batch = await client.nextBatch({ sampler: 'r', step: 0, rank: 1, worldSize: 2 });
    const report = { sampler: 'r', step: 0, rank: 1, indices: batch.indices, predictedLabels: predictBatch(model, batch.indices, 0) };
    assert.deepEqual(await client.reportPredictions(report), { accepted: 32, duplicate: false });
    const retries = await Promise.all([1, 2, 3].map(() => client.reportPredictions(report)));
    for (const r of retries) assert.deepEqual(r, { accepted: 0, duplicate: true });
    const other = await client.nextBatch({ sampler: 'r', step: 0, rank: 0, worldSize: 2 });
    assert.deepEqual(
      await client.reportPredictions({ ...report, rank: 0, indices: other.indices, predictedLabels: predictBatch(model, other.indices, 0) }),
      { accepted: 32, duplicate: false },
    );
    const counts = await client.getSampler('r');
    assert.equal(counts.reportsReceived, 2, 'duplicates are not counted');
    assert.equal(counts.predictionsReceived, 64);
  });
});

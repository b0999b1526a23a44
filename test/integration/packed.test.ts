// The packed fields of the contract: the same batches and the same learning as the repeated
// fields, precise errors for malformed bytes, and clients that never heard of them unchanged.
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { startTestServer } from '../helpers/server.js';

const config = { datasetSize: 500, numClasses: 6, batchSize: 24, epochs: 4, warmupEpochs: 1, window: 3, seed: 5 };
const model = { numClasses: 6, uncertainEvery: 3, seed: 2 };

const u32 = (values: ArrayLike<number>) => Buffer.from(Uint32Array.from(values).buffer);
const f32 = (values: ArrayLike<number>) => Buffer.from(Float32Array.from(values).buffer);
const fromU32 = (bytes: Uint8Array | undefined) => Array.from(new Uint32Array(Uint8Array.from(bytes ?? []).buffer));
const fromF32 = (bytes: Uint8Array | undefined) => Array.from(new Float32Array(Uint8Array.from(bytes ?? []).buffer));
const invalid = (pattern: RegExp) => (e: ServiceError) => e.code === status.INVALID_ARGUMENT && pattern.test(e.details);

describe('packed fields', () => {
  it('serve the same indices and loss weights as the repeated fields, and only in the packed fields', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('p', { ...config, strategy: 'ACTIVE_BIAS', activeBiasMode: 'ACTIVE_BIAS_REWEIGHT' });
    // Steps of warm-up and of the reweighting epochs (Active Bias needs probabilities reported).
    for (let step = 0; step < 21; step++) {
      const plain = await client.nextBatch({ sampler: 'p', step, rank: 1, worldSize: 3 });
      await client.reportPredictions({
        sampler: 'p', step, rank: 1, indices: plain.indices, predictedLabels: predictBatch(model, plain.indices, step),
        trueClassProbs: plain.indices.map((i) => ((i * 7 + step) % 10) / 10),
      });
    }
    const steps = [0, 20, 21, 40];
    for (const step of steps) {
      const plain = await client.nextBatch({ sampler: 'p', step, rank: 1, worldSize: 3 });
      const packed = await client.nextBatch({ sampler: 'p', step, rank: 1, worldSize: 3, packed: true });
      assert.deepEqual(packed.indices, [], 'the repeated field stays empty');
      assert.deepEqual(fromU32(packed.packedIndices), plain.indices);
      assert.deepEqual(fromF32(packed.packedLossWeights), plain.lossWeights);
      assert.equal(packed.globalBatchSize, plain.globalBatchSize);
    }
    assert.ok((await client.nextBatch({ sampler: 'p', step: 41, packed: true })).packedLossWeights?.length, 'a reweighting epoch carries weights');
    const many = await client.nextBatches({ sampler: 'p', step: 41, count: 5, packed: true });
    for (const b of many) assert.deepEqual(fromU32(b.packedIndices), (await client.nextBatch({ sampler: 'p', step: b.step! })).indices);
  });

  it('make a report that counts exactly as the same report in repeated fields', async (t) => {
    const { client } = await startTestServer(t);
    for (const name of ['plain', 'packed']) await client.createSampler(name, { ...config, strategy: 'ONLINE_BATCH' });
    let predictions = 0;
    for (let step = 0; step < 25; step++) {
      const b = await client.nextBatch({ sampler: 'plain', step });
      predictions += b.indices.length;
      assert.deepEqual(fromU32((await client.nextBatch({ sampler: 'packed', step, packed: true })).packedIndices), b.indices);
      const labels = predictBatch(model, b.indices, step);
      const losses = b.indices.map((i) => ((i * 13 + step) % 17) / 4);
      const plain = await client.reportPredictions({ sampler: 'plain', step, indices: b.indices, predictedLabels: labels, losses });
      const [packed] = await client.reportPredictionsBulk([
        { sampler: 'packed', step, packedIndices: u32(b.indices), packedPredictedLabels: u32(labels), packedLosses: f32(losses) },
      ]);
      assert.deepEqual(packed, plain);
    }
    // Learned alike: the adaptive epochs draw identical batches from identical state.
    for (let step = 25; step < 60; step += 7) {
      const a = await client.nextBatch({ sampler: 'plain', step });
      const b = await client.nextBatch({ sampler: 'packed', step });
      assert.deepEqual(b.indices, a.indices);
    }
    const info = await client.getSampler('packed');
    assert.equal(info.predictionsReceived, predictions);
  });

  it('reject a field given both ways or cut mid-value, naming it, and record nothing', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('p', config);
    const b = await client.nextBatch({ sampler: 'p', step: 0 });
    const labels = predictBatch(model, b.indices, 0);
    await assert.rejects(
      client.reportPredictions({ sampler: 'p', step: 0, indices: b.indices, packedIndices: u32(b.indices), predictedLabels: labels }),
      invalid(/^packed_indices: must be empty when indices is given/),
    );
    await assert.rejects(
      client.reportPredictions({ sampler: 'p', step: 0, packedIndices: u32(b.indices).subarray(0, 10), predictedLabels: labels }),
      invalid(/^packed_indices: must be a whole number of 4-byte little-endian values, got 10 bytes/),
    );
    await assert.rejects(
      client.reportPredictions({ sampler: 'p', step: 0, packedIndices: u32(b.indices), packedPredictedLabels: u32(labels.slice(1)) }),
      invalid(/^predicted_labels: must have one label per index \(24\), got 23/),
    );
    await assert.rejects(
      client.reportPredictions({ sampler: 'p', step: 0, packedIndices: u32([...b.indices.slice(1), 500]), packedPredictedLabels: u32(labels) }),
      invalid(/^indices\[23\]: must be an integer in \[0, dataset_size = 500\), got 500/),
    );
    await assert.rejects(
      client.reportPredictions({ sampler: 'p', step: 0, packedIndices: u32(b.indices), packedPredictedLabels: u32(labels), packedLosses: f32(b.indices.map(() => Number.NaN)) }),
      invalid(/^losses\[0\]: must be a finite number >= 0, got NaN/),
    );
    await assert.rejects(
      client.reportPredictionsBulk([
        { sampler: 'p', step: 0, packedIndices: u32(b.indices), packedPredictedLabels: u32(labels) },
        { sampler: 'p', step: 0, rank: 0, predictedLabels: labels, packedPredictedLabels: u32(labels), indices: b.indices },
      ]),
      invalid(/^reports\[1\]\.packed_predicted_labels: must be empty when predicted_labels is given/),
    );
    assert.equal((await client.getSampler('p')).reportsReceived, 0, 'no rejected call recorded anything');
  });
});

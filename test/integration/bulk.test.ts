// NextBatches and ReportPredictionsBulk: the same results as single calls, all-or-nothing.
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { startTestServer } from '../helpers/server.js';

const config = { datasetSize: 300, numClasses: 5, batchSize: 20, epochs: 4, warmupEpochs: 1, window: 2, seed: 9 };
const model = { numClasses: 5, uncertainEvery: 3, seed: 4 };

describe('NextBatches', () => {
  it('returns, in step order, the batches NextBatch returns for each step', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('m', config);
    const many = await client.nextBatches({ sampler: 'm', step: 10, count: 8, rank: 1, worldSize: 2 });
    assert.deepEqual(many.map((b) => b.step), [10, 11, 12, 13, 14, 15, 16, 17]);
    for (const b of many) assert.deepEqual(await client.nextBatch({ sampler: 'm', step: b.step!, rank: 1, worldSize: 2 }), b);
    await assert.rejects(client.nextBatches({ sampler: 'm', step: 0, count: 65 }), (e: ServiceError) =>
      e.code === status.INVALID_ARGUMENT && /^count: must be in \[1, 64\]/.test(e.details));
    await assert.rejects(client.nextBatches({ sampler: 'm', step: 55, count: 10 }), (e: ServiceError) =>
      e.code === status.INVALID_ARGUMENT && /^count: steps 55 \.\. 64 run past the last step \(total_steps = 60\)/.test(e.details));
  });
});

describe('ReportPredictionsBulk', () => {
  it('records several reports in one call, flags duplicates, and records none if one is invalid', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('m', config);
    const batches = await client.nextBatches({ sampler: 'm', step: 0, count: 4 });
    const reports = batches.map((b) => ({ sampler: 'm', step: b.step!, indices: b.indices, predictedLabels: predictBatch(model, b.indices, b.step!) }));
    const bad = { ...reports[3]!, predictedLabels: reports[3]!.predictedLabels.map(() => 7) };
    await assert.rejects(client.reportPredictionsBulk([reports[0]!, reports[1]!, bad]), (e: ServiceError) =>
      e.code === status.INVALID_ARGUMENT && /^reports\[2\]\.predicted_labels\[0\]: must be an integer in \[0, num_classes = 5\)/.test(e.details));
    assert.equal((await client.getSampler('m')).reportsReceived, 0, 'nothing of the rejected call was recorded');
    const results = await client.reportPredictionsBulk([reports[0]!, reports[1]!, reports[0]!]);
    assert.deepEqual(results, [
      { accepted: 20, duplicate: false },
      { accepted: 20, duplicate: false },
      { accepted: 0, duplicate: true },
    ]);
    assert.deepEqual(await client.reportPredictions(reports[1]!), { accepted: 0, duplicate: true });
    assert.equal((await client.getSampler('m')).reportsReceived, 2);
    await assert.rejects(client.reportPredictionsBulk([]), (e: ServiceError) =>
      e.code === status.INVALID_ARGUMENT && /^reports: must hold 1 to 256 reports, got 0/.test(e.details));
  });
});

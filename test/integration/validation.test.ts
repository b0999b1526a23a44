// Every bad input gets the right status and a message naming the field, changes nothing, and
// the server keeps serving.
import * as grpc from '@grpc/grpc-js';
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SamplerClient } from '../../src/client/sampler-client.js';
import { startTestServer } from '../helpers/server.js';
import { stateHash } from '../helpers/state-hash.js';

const config = { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 3, warmupEpochs: 1 };

/** What the cases refer to: the indices sampler s served for step 0, and one index it did not. */
interface Served {
  readonly step0: number[];
  readonly outside: number;
}
type Case = [string, (c: SamplerClient, served: Served) => Promise<unknown>, status, RegExp];

const cases: Case[] = [
  ['create without name', (c) => c.createSampler('', config), status.INVALID_ARGUMENT, /^name: is required/],
  ['create with a bad name', (c) => c.createSampler('a/b', config), status.INVALID_ARGUMENT, /^name: must match/],
  ['create without config', (c) => c.createSampler('x', undefined as never), status.INVALID_ARGUMENT, /^config: is required/],
  ['N = 0', (c) => c.createSampler('x', { ...config, datasetSize: 0 }), status.INVALID_ARGUMENT, /^config\.dataset_size: must be >= 1 \(got 0\)/],
  ['k = 1', (c) => c.createSampler('x', { ...config, numClasses: 1 }), status.INVALID_ARGUMENT, /^config\.num_classes: must be >= 2/],
  ['b > N', (c) => c.createSampler('x', { ...config, batchSize: 101 }), status.INVALID_ARGUMENT, /^config\.batch_size: must be <= dataset_size/],
  ['window = 0', (c) => c.createSampler('x', { ...config, window: 0 }), status.INVALID_ARGUMENT, /^config\.window: must be >= 1/],
  ['s0 < 1', (c) => c.createSampler('x', { ...config, initialPressure: 0.9 }), status.INVALID_ARGUMENT, /^config\.initial_pressure: must be >= 1/],
  ['s0 = NaN', (c) => c.createSampler('x', { ...config, initialPressure: Number.NaN }), status.INVALID_ARGUMENT, /^config\.initial_pressure: /],
  ['N = 2^32 - 1 (once answered INTERNAL after storing the row)', (c) => c.createSampler('x', { datasetSize: 4294967295, numClasses: 4, batchSize: 1, epochs: 1 }), status.INVALID_ARGUMENT, /^config\.dataset_size: must be <= 67108864/],
  ['b past the limit', (c) => c.createSampler('x', { ...config, datasetSize: 100_000, batchSize: 65_537 }), status.INVALID_ARGUMENT, /^config\.batch_size: must be <= 65536/],
  ['windows past the memory limit', (c) => c.createSampler('x', { ...config, datasetSize: 2 ** 26, numClasses: 300, window: 32 }), status.INVALID_ARGUMENT, /^config\.window: the windows would take dataset_size x window x 2 bytes = 4294967296, more than the limit of 2147483648/],
  ['g > E', (c) => c.createSampler('x', { ...config, warmupEpochs: 4 }), status.INVALID_ARGUMENT, /^config\.warmup_epochs: must be <= epochs/],
  ['unknown strategy', (c) => c.createSampler('x', { ...config, strategy: 9 as never }), status.INVALID_ARGUMENT, /^config\.strategy: must be one of/],
  ['eps = 0', (c) => c.createSampler('x', { ...config, strategy: 'ACTIVE_BIAS', activeBiasEpsilon: 0 }), status.INVALID_ARGUMENT, /^config\.active_bias_epsilon: must be > 0/],
  ['unknown Active Bias mode', (c) => c.createSampler('x', { ...config, activeBiasMode: 7 as never }), status.INVALID_ARGUMENT, /^config\.active_bias_mode: must be one of SAMPLE, REWEIGHT/],
  ['Online Batch report without losses', (c) => c.reportPredictions({ sampler: 'ob', step: 0, indices: [1], predictedLabels: [1] }), status.FAILED_PRECONDITION, /^losses: the sampler uses ONLINE_BATCH/],
  ['Active Bias report without true-class probabilities', (c) => c.reportPredictions({ sampler: 'ab', step: 0, indices: [1], predictedLabels: [1], losses: [0.5] }), status.FAILED_PRECONDITION, /^true_class_probs: the sampler uses ACTIVE_BIAS/],
  ['get unknown', (c) => c.getSampler('nope'), status.NOT_FOUND, /^name: no sampler named "nope"/],
  ['delete unknown', (c) => c.deleteSampler('nope'), status.NOT_FOUND, /^name: no sampler/],
  ['batch of unknown sampler', (c) => c.nextBatch({ sampler: 'nope', step: 0 }), status.NOT_FOUND, /^sampler: no sampler/],
  ['batch without sampler', (c) => c.nextBatch({ step: 0 }), status.INVALID_ARGUMENT, /^sampler: is required/],
  ['step past the end', (c) => c.nextBatch({ sampler: 's', step: 30 }), status.INVALID_ARGUMENT, /^step: must be in \[0, 30\)/],
  ['step 2^40', (c) => c.nextBatch({ sampler: 's', step: 2 ** 40 }), status.INVALID_ARGUMENT, /^step: must be in/],
  ['rank >= world_size', (c) => c.nextBatch({ sampler: 's', step: 0, rank: 2, worldSize: 2 }), status.INVALID_ARGUMENT, /^rank: must be < world_size \(2\)/],
  ['world_size > b', (c) => c.nextBatch({ sampler: 's', step: 0, worldSize: 11 }), status.INVALID_ARGUMENT, /^world_size: must be <= batch_size/],
  ['report of a step of an epoch not begun', (c) => c.reportPredictions({ sampler: 's', step: 25, indices: [1], predictedLabels: [1] }), status.FAILED_PRECONDITION, /^step: step 25 has not been served/],
  ['report with another world_size', (c) => c.reportPredictions({ sampler: 's', step: 0, worldSize: 2, indices: [1], predictedLabels: [1] }), status.FAILED_PRECONDITION, /^world_size: step 0 was split among 1 ranks, got world_size 2/],
  ['report past the end', (c) => c.reportPredictions({ sampler: 's', step: 99, indices: [1], predictedLabels: [1] }), status.INVALID_ARGUMENT, /^step: /],
  ['report rank >= world_size', (c) => c.reportPredictions({ sampler: 's', step: 0, rank: 1, indices: [1], predictedLabels: [1] }), status.INVALID_ARGUMENT, /^rank: must be < world_size \(1\)/],
  ['empty report', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [], predictedLabels: [] }), status.INVALID_ARGUMENT, /^indices: must not be empty/],
  ['lengths differ', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1, 2], predictedLabels: [1] }), status.INVALID_ARGUMENT, /^predicted_labels: must have one label per index \(2\), got 1/],
  ['index >= N', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1, 100], predictedLabels: [1, 1] }), status.INVALID_ARGUMENT, /^indices\[1\]: must be an integer in \[0, dataset_size = 100\), got 100/],
  ['label >= k', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1, 2], predictedLabels: [0, 4] }), status.INVALID_ARGUMENT, /^predicted_labels\[1\]: must be an integer in \[0, num_classes = 4\)/],
  ['losses of the wrong length', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1, 2], predictedLabels: [0, 1], losses: [1] }), status.INVALID_ARGUMENT, /^losses: must be empty or have one value per index/],
  ['negative loss', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1], predictedLabels: [0], losses: [-1] }), status.INVALID_ARGUMENT, /^losses\[0\]: must be a finite number >= 0/],
  ['NextBatch with another world size', (c) => c.nextBatch({ sampler: 's', step: 0, worldSize: 2 }), status.FAILED_PRECONDITION, /^world_size: step 0 was split among 1 ranks when first served; got world_size 2/],
  ['NextBatches running into a step split otherwise', (c) => c.nextBatches({ sampler: 's', step: 2, count: 4, worldSize: 2 }), status.FAILED_PRECONDITION, /^world_size: step 5 was split among 1 ranks/],
  ['report of a never-served step of the next epoch', (c) => c.reportPredictions({ sampler: 's', step: 10, indices: [1], predictedLabels: [1] }), status.FAILED_PRECONDITION, /^step: step 10 has not been served/],
  ['report with an index twice', (c, s) => c.reportPredictions({ sampler: 's', step: 0, indices: [s.step0[3]!, s.step0[3]!], predictedLabels: [1, 1] }), status.INVALID_ARGUMENT, /^indices\[1\]: \d+ appears twice in the report/],
  ['report of an index the step did not serve', (c, s) => c.reportPredictions({ sampler: 's', step: 0, indices: [s.step0[0]!, s.outside], predictedLabels: [1, 1] }), status.INVALID_ARGUMENT, /^indices\[1\]: \d+ is not in rank 0's share of step 0/],
  ['report longer than the share', (c, s) => c.reportPredictions({ sampler: 's', step: 0, indices: [...s.step0, s.outside], predictedLabels: Array(11).fill(1) }), status.INVALID_ARGUMENT, /^indices: must hold at most the 10 indices of rank 0's share of step 0, got 11/],
  ['probability > 1', (c) => c.reportPredictions({ sampler: 's', step: 0, indices: [1], predictedLabels: [0], trueClassProbs: [1.5] }), status.INVALID_ARGUMENT, /^true_class_probs\[0\]: must be in \[0, 1\]/],
];

describe('validation through gRPC', () => {
  it('rejects each bad request with its status and field, and changes nothing', async (t) => {
    const { app, client } = await startTestServer(t);
    await client.createSampler('s', config);
    const step0 = (await client.nextBatch({ sampler: 's', step: 0 })).indices;
    await client.nextBatch({ sampler: 's', step: 5 });
    const served = { step0, outside: [...Array(100).keys()].find((i) => !step0.includes(i))! };
    for (const [name, strategy] of [['ob', 'ONLINE_BATCH'], ['ab', 'ACTIVE_BIAS']] as const) {
      await client.createSampler(name, { ...config, strategy });
      await client.nextBatch({ sampler: name, step: 0 });
    }
    const before = await stateHash(app, ['s', 'ob', 'ab']);
    const listed = await client.listSamplers();
    for (const [name, call, code, message] of cases) {
      await assert.rejects(call(client, served), (e: ServiceError) => {
        assert.equal(status[e.code], status[code], `${name}: ${e.details}`);
        assert.match(e.details, message, name);
        return true;
      });
      assert.equal(await stateHash(app, ['s', 'ob', 'ab']), before, `${name} changed the state`);
    }
    assert.deepEqual(await client.listSamplers(), listed);
    // The name a refused config asked for is free: nothing of it was stored.
    await client.createSampler('x', config);
    await client.deleteSampler('x');
    // None of the rejected reports was counted: a valid one for step 0 is the first.
    const batch = await client.nextBatch({ sampler: 's', step: 0 });
    const labels = batch.indices.map(() => 0);
    assert.deepEqual(await client.reportPredictions({ sampler: 's', step: 0, indices: batch.indices, predictedLabels: labels }), {
      accepted: 10,
      duplicate: false,
    });
  });

  it('answers undecodable bytes with INVALID_ARGUMENT naming the message, and keeps serving', async (t) => {
    const { app, client } = await startTestServer(t);
    await client.createSampler('s', config);
    const Raw = grpc.makeGenericClientConstructor({}, 'raw');
    const raw = new Raw(`127.0.0.1:${app.grpcPort}`, grpc.credentials.createInsecure());
    t.after(() => raw.close());
    for (const [method, message] of [['NextBatch', 'NextBatchRequest'], ['ReportPredictions', 'ReportPredictionsRequest'], ['CreateSampler', 'CreateSamplerRequest']] as const) {
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]);
      const error = await new Promise<ServiceError | null>((resolve) =>
        raw.makeUnaryRequest(
          `/recency_sampler.v1.SamplerService/${method}`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          garbage,
          (e) => resolve(e),
        ),
      );
      assert.equal(error?.code, status.INVALID_ARGUMENT, `${method}: ${error?.details}`);
      assert.match(error.details, new RegExp(`^request: is not a valid ${message} message \\(`));
    }
    assert.equal((await client.nextBatch({ sampler: 's', step: 1 })).step, 1);
  });
});

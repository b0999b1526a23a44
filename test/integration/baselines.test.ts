// The paper's baselines through the real protocol: Online Batch learns from reported losses,
// Active Bias from true-class probabilities, and its reweighting variant returns loss weights.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { startTestServer } from '../helpers/server.js';

const N = 400;
const base = { datasetSize: N, numClasses: 4, batchSize: 40, epochs: 4, warmupEpochs: 1, seed: 3 };
const STEPS_PER_EPOCH = N / base.batchSize;

/** Serves and reports every step of `epoch`, with the loss and probability `signal` gives each sample. */
async function trainEpoch(
  client: SamplerClient,
  sampler: string,
  epoch: number,
  signal: (index: number, epoch: number) => { loss: number; prob: number },
  fromStep = epoch * STEPS_PER_EPOCH,
): Promise<number[][]> {
  const batches: number[][] = [];
  for (let step = fromStep; step < (epoch + 1) * STEPS_PER_EPOCH; step++) {
    const { indices } = await client.nextBatch({ sampler, step });
    await client.reportPredictions({
      sampler,
      step,
      indices,
      predictedLabels: indices.map(() => 0),
      losses: indices.map((i) => signal(i, epoch).loss),
      trueClassProbs: indices.map((i) => signal(i, epoch).prob),
    });
    batches.push(indices);
  }
  return batches;
}

describe('Online Batch through gRPC', () => {
  it('draws samples with the largest latest losses far more often after warm-up', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('ob', { ...base, strategy: 'ONLINE_BATCH' });
    // Loss rises with the index: the top quarter (300..399) ranks first.
    await trainEpoch(client, 'ob', 0, (i) => ({ loss: i / N, prob: 0.5 }));
    const first = await client.nextBatch({ sampler: 'ob', step: STEPS_PER_EPOCH });
    assert.equal(first.phase, 'ADAPTIVE');
    // s_e of epoch 1 of 4 with g = 1: 100^((4 - 1 - 1) / (4 - 1)).
    assert.ok(Math.abs((first.selectionPressure ?? 0) - 100 ** (2 / 3)) < 1e-9);
    const drawn = (await trainEpoch(client, 'ob', 1, (i) => ({ loss: i / N, prob: 0.5 }))).flat();
    const top = drawn.filter((i) => i >= 300).length;
    const bottom = drawn.filter((i) => i < 100).length;
    // Expected counts differ by about s_e^(1/2) = 4.6x; a ranking by anything else gives about 1x.
    assert.ok(top > 2.5 * bottom, `top quarter drawn ${top} times, bottom quarter ${bottom}`);
  });
});

describe('Active Bias through gRPC', () => {
  /** Samples below 100 flip between 0.9 and 0.1 from epoch to epoch; the others are steady at 0.6. */
  const flipping = (i: number, epoch: number) => ({ loss: 1, prob: i < 100 ? (epoch % 2 === 0 ? 0.9 : 0.1) : 0.6 });
  // After two epochs: a flipper has var = 0.16 over n = 2 reports, std_hat = sqrt(0.16 + 0.16^2 / 1);
  // a steady sample has std_hat = 0. Weights std_hat + 0.2.
  const flipperWeight = Math.sqrt(0.16 + 0.16 ** 2) + 0.2;

  it('samples with P proportional to std_hat + eps', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('ab', { ...base, strategy: 'ACTIVE_BIAS', warmupEpochs: 2 });
    await trainEpoch(client, 'ab', 0, flipping);
    await trainEpoch(client, 'ab', 1, flipping);
    const batch = await client.nextBatch({ sampler: 'ab', step: 2 * STEPS_PER_EPOCH });
    assert.equal(batch.phase, 'ADAPTIVE');
    assert.equal(batch.lossWeights?.length ?? 0, 0, 'the sampling variant sends no loss weights');
    // Pressure = max / min of std_hat + eps (float32 probabilities: within 1e-6).
    assert.ok(Math.abs((batch.selectionPressure ?? 0) - flipperWeight / 0.2) < 1e-6, `pressure ${batch.selectionPressure}`);
    const drawn = (await trainEpoch(client, 'ab', 2, flipping)).flat();
    const flippers = drawn.filter((i) => i < 100).length;
    // P(flipper) = 100 w / (100 w + 300 * 0.2) = 0.51 per single draw (a quarter under uniform
    // sampling); drawing without replacement within a batch lowers it a little.
    assert.ok(flippers > 0.4 * drawn.length, `high-variance quarter drawn ${flippers} of ${drawn.length} times`);
  });

  it('REWEIGHT keeps permutation batches and sends loss weights of mean 1 per global batch, split like the indices', async (t) => {
    const { client } = await startTestServer(t);
    await client.createSampler('abw', { ...base, strategy: 'ACTIVE_BIAS', warmupEpochs: 2, activeBiasMode: 'ACTIVE_BIAS_REWEIGHT' });
    const warmup = await client.nextBatch({ sampler: 'abw', step: 0 });
    assert.deepEqual(warmup.lossWeights, [], 'no weights while uniform');
    await trainEpoch(client, 'abw', 0, flipping);
    await trainEpoch(client, 'abw', 1, flipping);
    const step = 2 * STEPS_PER_EPOCH;
    const shares = await Promise.all([0, 1, 2].map((rank) => client.nextBatch({ sampler: 'abw', step, rank, worldSize: 3 })));
    const indices = shares.flatMap((s) => s.indices);
    const weights = shares.flatMap((s) => s.lossWeights ?? []);
    assert.equal(weights.length, indices.length);
    assert.ok(Math.abs(weights.reduce((a, w) => a + w, 0) / weights.length - 1) < 1e-5, 'mean 1 over the global batch');
    // Each weight is std_hat + eps scaled by the batch's mean.
    const raw = indices.map((i) => (i < 100 ? flipperWeight : 0.2));
    const mean = raw.reduce((a, w) => a + w, 0) / raw.length;
    raw.forEach((w, j) => assert.ok(Math.abs(weights[j]! - w / mean) < 1e-5, `index ${indices[j]}: ${weights[j]} vs ${w / mean}`));
    // Within one epoch every sample appears once: the batches are still a permutation.
    for (let rank = 0; rank < 3; rank++) {
      const share = shares[rank]!;
      await client.reportPredictions({ sampler: 'abw', step, rank, worldSize: 3, indices: share.indices, predictedLabels: share.indices.map(() => 0), trueClassProbs: share.indices.map(() => 0.5) });
    }
    const rest = (await trainEpoch(client, 'abw', 2, flipping, step + 1)).flat();
    assert.deepEqual([...indices, ...rest].sort((a, b) => a - b), [...Array(N).keys()]);
  });
});

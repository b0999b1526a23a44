import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SamplerRuntime } from '../../src/service/sampler-runtime.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';

const config = normalizeConfig({ datasetSize: 500, numClasses: 4, batchSize: 20, epochs: 6, window: 3, warmupEpochs: 2, seed: 4 });
const model = { numClasses: 4, uncertainEvery: 3, seed: 8 };

function run(predrawAhead: number): string[] {
  const storage = new MemoryStorage();
  const runtime = SamplerRuntime.create(storage.insertSampler('p', config, 'x'), storage);
  const batches: string[] = [];
  let seq = 0;
  for (let step = 0; step < 150; step++) {
    const { indices } = runtime.serve([step], 1)[0]!;
    batches.push(indices.join(','));
    runtime.apply(++seq, { step, rank: 0, indices, labels: Uint32Array.from(predictBatch(model, indices, step)) });
    while (predrawAhead > 0 && runtime.predraw(predrawAhead));
  }
  return batches;
}

describe('drawing ahead', () => {
  it('changes no batch: every step gets the batch it gets when drawn on request', () => {
    const onRequest = run(0);
    assert.deepEqual(run(8), onRequest);
    assert.deepEqual(run(40), onRequest, 'ahead further than an epoch (25 steps): it crosses a boundary only once the next P is frozen');
  });
});

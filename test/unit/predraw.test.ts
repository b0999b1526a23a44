import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SamplerRuntime } from '../../src/service/sampler-runtime.js';
import { SamplerService } from '../../src/service/sampler-service.js';
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

  it('never holds an answer back: the service draws ahead only after the answers it just committed are out', async () => {
    const service = new SamplerService(new MemoryStorage(), pino({ level: 'silent' }));
    service.create('p', { datasetSize: 500, numClasses: 4, batchSize: 20, epochs: 6, window: 3, warmupEpochs: 2, seed: 4 });
    const runtime = service.inspect('p') as SamplerRuntime;
    const events: string[] = [];
    const predraw = runtime.predraw.bind(runtime);
    runtime.predraw = (ahead: number) => {
      const drew = predraw(ahead);
      if (drew) events.push('drew');
      return drew;
    };
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    for (let step = 0; step < 40; step += 2) {
      // Asked while the draws ahead that the last answer scheduled are still under way: the next
      // of them commits this call (every unit of idle work commits the grouped calls first).
      events.push(`asked ${step}`);
      await service.nextBatchesGrouped({ sampler: 'p', step, count: 2 }).then(() => events.push(`answered ${step}`));
      await turn();
    }
    assert.ok(events.filter((e) => e === 'drew').length >= 20, 'drew ahead between the calls');
    for (let step = 0; step < 40; step += 2) {
      const between = events.slice(events.indexOf(`asked ${step}`), events.indexOf(`answered ${step}`));
      assert.ok(!between.includes('drew'), `step ${step}: a batch was drawn ahead before the answer (${between.join(', ')})`);
    }
  });
});

// The learned state encodes its own snapshot: restoring one gives a state that encodes the same
// snapshot again and draws the same batches, for every strategy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { normalizeConfig, STRATEGIES } from '../../src/core/sampler-config.js';
import { SamplerState } from '../../src/core/sampler-state.js';
import { adaptiveBatch, epochPlan } from '../../src/core/strategy.js';

const encoded = (state: SamplerState) => {
  const { seq, meta, parts } = state.snapshot();
  return { seq, meta, parts: [...parts].map(([name, data]) => [name, [...data]]) };
};

describe('SamplerState snapshots', () => {
  for (const strategy of STRATEGIES) {
    it(`round-trip for ${strategy}: the same encoding, the same batches from the held epochs`, () => {
      const config = normalizeConfig({ datasetSize: 50, numClasses: 300, batchSize: 5, epochs: 6, window: 3, warmupEpochs: 1, strategy });
      const state = new SamplerState(config);
      const rng = new Rng(3);
      let seq = 0;
      for (let epoch = 0; epoch < 4; epoch++) {
        if (epoch > 0) state.freeze(epoch);
        for (let step = epoch * 10; step < epoch * 10 + 10; step++) {
          const indices = Uint32Array.from({ length: 5 }, (_, i) => ((step % 10) * 5 + i) % 50);
          state.activity.countDraws(step, indices);
          state.apply(++seq, {
            step,
            rank: step % 2,
            indices,
            labels: Uint32Array.from(indices, () => rng.nextInt(300)),
            losses: Float32Array.from(indices, () => rng.nextFloat()),
            trueClassProbs: Float32Array.from(indices, () => rng.nextFloat()),
          });
        }
      }
      const restored = SamplerState.restore(config, state.snapshot());
      assert.deepEqual(encoded(restored), encoded(state));
      for (const epoch of [2, 3]) {
        const [a, b] = [state.held(epoch), restored.held(epoch)];
        if (epochPlan(config, epoch).freezes) assert.ok(a && b, `epoch ${epoch} is held before and after`);
        if (a && b && epochPlan(config, epoch).weightedDraws) {
          assert.deepEqual([...adaptiveBatch(config, epoch * 10, b)], [...adaptiveBatch(config, epoch * 10, a)]);
        }
      }
      assert.equal(restored.held(1), undefined, 'only the two newest epochs are held');
    });
  }
});

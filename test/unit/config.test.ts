import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerError } from '../../src/core/errors.js';
import { normalizeConfig, uniformThroughout, type SamplerConfigInput } from '../../src/core/sampler-config.js';

const base = { datasetSize: 1000, numClasses: 10, batchSize: 32, epochs: 20 };

function rejects(input: SamplerConfigInput, kind: string, field: string, detail?: RegExp) {
  assert.throws(
    () => normalizeConfig(input),
    (e: unknown) => {
      assert.ok(e instanceof SamplerError);
      assert.equal(e.kind, kind);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      if (detail) assert.match(e.message, detail);
      return true;
    },
  );
}

describe('sampler config', () => {
  it('fills the defaults: q = 10, s0 = 100, g = min(q, floor(E / 2)), RECENCY_BIAS', () => {
    assert.deepEqual(normalizeConfig(base), {
      ...base,
      strategy: 'RECENCY_BIAS',
      window: 10,
      initialPressure: 100,
      warmupEpochs: 10,
      seed: 0,
      dropLast: false,
      activeBiasEpsilon: 0.2,
      activeBiasMode: 'SAMPLE',
      noisyLabels: 'IGNORE',
    });
    assert.equal(normalizeConfig({ ...base, window: 4 }).warmupEpochs, 4);
    assert.equal(normalizeConfig({ ...base, warmupEpochs: 0 }).warmupEpochs, 0);
    // Short runs: the warm-up leaves at least half of the epochs adaptive.
    assert.deepEqual([1, 2, 3, 5, 12, 19].map((epochs) => normalizeConfig({ ...base, epochs }).warmupEpochs), [0, 1, 1, 2, 6, 9]);
  });

  it('says when a run never selects: no adaptive epoch with s_e > 1 (Recency Bias, Online Batch) or none at all (Active Bias)', () => {
    const uniform = (input: SamplerConfigInput) => uniformThroughout(normalizeConfig({ ...base, ...input }));
    assert.match(uniform({ epochs: 2 }) ?? '', /warm-up or the last \(where s_e = 1\) with epochs = 2 and warmup_epochs = 1/);
    assert.match(uniform({ epochs: 1 }) ?? '', /plain shuffles/);
    assert.match(uniform({ epochs: 5, warmupEpochs: 4, strategy: 'ONLINE_BATCH' }) ?? '', /warmup_epochs = 4/);
    assert.equal(uniform({ epochs: 3 }), undefined); // epoch 1 has s_e = 100^(1/2)
    assert.equal(uniform({ epochs: 5, warmupEpochs: 4, strategy: 'ACTIVE_BIAS' }), undefined);
    assert.match(uniform({ epochs: 5, warmupEpochs: 5, strategy: 'ACTIVE_BIAS' }) ?? '', /every epoch is warm-up with/);
    assert.equal(uniform({ epochs: 1, strategy: 'RANDOM' }), undefined); // shuffling is what it is for
  });

  it('names the field of every invalid value', () => {
    rejects({ ...base, datasetSize: undefined }, 'invalid_argument', 'config.dataset_size', /required/);
    rejects({ ...base, datasetSize: 1.5 }, 'invalid_argument', 'config.dataset_size', /integer/);
    rejects({ ...base, numClasses: 1 }, 'invalid_argument', 'config.num_classes', />= 2 \(got 1\)/);
    rejects({ ...base, batchSize: 1001 }, 'invalid_argument', 'config.batch_size', /<= dataset_size \(1000\)/);
    rejects({ ...base, window: 0 }, 'invalid_argument', 'config.window', />= 1/);
    rejects({ ...base, window: 33 }, 'invalid_argument', 'config.window', /<= 32/);
    rejects({ ...base, initialPressure: 0.5 }, 'invalid_argument', 'config.initial_pressure', />= 1/);
    rejects({ ...base, warmupEpochs: 21 }, 'invalid_argument', 'config.warmup_epochs', /<= epochs \(20\)/);
    rejects({ ...base, strategy: 'BOGUS' as never }, 'invalid_argument', 'config.strategy');
    rejects({ ...base, activeBiasEpsilon: -0.1 }, 'invalid_argument', 'config.active_bias_epsilon', /> 0/);
    rejects({ ...base, activeBiasMode: 'BOTH' as never }, 'invalid_argument', 'config.active_bias_mode', /SAMPLE, REWEIGHT/);
  });
});

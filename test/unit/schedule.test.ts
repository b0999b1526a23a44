import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { selectionPressure, stepsPerEpoch, totalSteps } from '../../src/core/schedule.js';
import { epochPlan } from '../../src/core/strategy.js';

const paper = normalizeConfig({ datasetSize: 50_000, numClasses: 10, batchSize: 128, epochs: 100 });

describe('selection pressure s_e (spec section 4)', () => {
  it('is 95.0 at the first adaptive epoch for s0 = 100, g = 10, E = 100', () => {
    const s = selectionPressure(10, paper);
    assert.ok(Math.abs(s - 100 ** (89 / 90)) < 1e-9);
    assert.equal(s.toFixed(1), '95.0');
  });

  it('is exactly 1 at the last epoch and during warm-up', () => {
    assert.equal(selectionPressure(99, paper), 1);
    for (let e = 0; e < 10; e++) assert.equal(selectionPressure(e, paper), 1);
  });

  it('decays exponentially: log s_e falls by ln(s0) / (E - g) each epoch', () => {
    for (let e = 10; e < 99; e++) {
      const step = Math.log(selectionPressure(e, paper)) - Math.log(selectionPressure(e + 1, paper));
      assert.ok(Math.abs(step - Math.log(100) / 90) < 1e-12, `epoch ${e}: ${step}`);
    }
  });

  it('labels the phases: warm-up, then adaptive; RANDOM shuffles throughout', () => {
    const uniform = { pressure: 1, freezes: false, weightedDraws: false, lossWeights: false };
    assert.deepEqual(epochPlan(paper, 9), { phase: 'WARMUP', ...uniform });
    assert.deepEqual(epochPlan(paper, 10), { phase: 'ADAPTIVE', pressure: selectionPressure(10, paper), freezes: true, weightedDraws: true, lossWeights: false });
    const random = normalizeConfig({ ...paper, strategy: 'RANDOM' });
    assert.deepEqual(epochPlan(random, 50), { phase: 'SHUFFLE', ...uniform });
    // The baselines keep the same warm-up (spec section 7); Online Batch also the same s_e.
    const online = normalizeConfig({ ...paper, strategy: 'ONLINE_BATCH' });
    assert.deepEqual(epochPlan(online, 9), { phase: 'WARMUP', ...uniform });
    assert.equal(epochPlan(online, 40).pressure, selectionPressure(40, paper));
    const reweight = normalizeConfig({ ...paper, strategy: 'ACTIVE_BIAS', activeBiasMode: 'REWEIGHT' });
    assert.deepEqual(epochPlan(reweight, 10), { phase: 'ADAPTIVE', pressure: 0, freezes: true, weightedDraws: false, lossWeights: true });
  });
});

describe('steps per epoch', () => {
  it('is ceil(N / b), or floor with drop_last, whatever the sampling', () => {
    assert.equal(stepsPerEpoch({ datasetSize: 50_000, batchSize: 128, dropLast: false }), 391);
    assert.equal(stepsPerEpoch({ datasetSize: 50_000, batchSize: 128, dropLast: true }), 390);
    assert.equal(stepsPerEpoch({ datasetSize: 256, batchSize: 128, dropLast: false }), 2);
    assert.equal(totalSteps(paper), 39_100);
  });
});

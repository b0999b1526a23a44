// Whether selection does anything: effective sample size of P, the share of uncertain samples and
// the share of draws the top tenth of samples gets, against values computed by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupedMass, meantToSelect, selectionDiagnostics, uncertainShare, weightMass } from '../../src/core/diagnostics.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { epochPlan } from '../../src/core/strategy.js';
import { FrozenDistribution } from '../../src/core/distribution.js';
import { Rng } from '../../src/core/random.js';
import { WeightedDistribution } from '../../src/core/weighted-distribution.js';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

describe('selection diagnostics', () => {
  it('grouped P: one sample of weight 10 among nine of weight 1', () => {
    const { ess, topDecile } = groupedMass([{ weight: 1, size: 9 }, { weight: 10, size: 1 }]);
    close(ess, (19 * 19) / 109 / 10, 'ESS / N'); // sum 19, sum of squares 100 + 9
    close(topDecile, 10 / 19, 'top decile'); // ceil(10 / 10) = 1 sample: the heavy one
  });

  it('is 1 and 0.1 for a uniform P, and not for the smallest data sets either', () => {
    const uniform = groupedMass([{ weight: 3, size: 20 }]);
    close(uniform.ess, 1, 'ESS / N');
    close(uniform.topDecile, 0.1, 'top decile');
    close(groupedMass([{ weight: 2, size: 5 }]).topDecile, 1 / 5, 'N = 5: the top tenth is one sample of five');
  });

  it('per-sample weights: selection of the top tenth, ties included', () => {
    const weights = Float64Array.of(1, 1, 2, 1, 1, 5, 1, 1, 1, 2, 1, 1); // N = 12: sum 18, squares 42
    const { ess, topDecile } = weightMass(weights);
    close(ess, (18 * 18) / 42 / 12, 'ESS / N');
    close(topDecile, (5 + 2) / 18, 'top decile: ceil(1.2) = 2 samples, 5 and one of the 2s');
    close(weightMass(new Float64Array(10).fill(1)).topDecile, 0.1, 'all tied');
    assert.deepEqual([...weights], [1, 1, 2, 1, 1, 5, 1, 1, 1, 2, 1, 1], 'the weights are not reordered');
  });

  it('an epoch of Recency Bias: 40 samples at F = 1, 100 at F = 0, 60 at F = 0.5, s = 10', () => {
    const level = Uint16Array.from({ length: 200 }, (_, i) => (i < 40 ? 0 : i < 140 ? 1 : 2));
    const d = new FrozenDistribution(level, [1, 0, 0.5], 10);
    const counts = { levelCounts: [40, 100, 60], levels: { uncertainty: [1, 0, 0.5] } };
    const diagnostics = selectionDiagnostics(d, counts, true);
    const sum = 40 * 10 + 100 + 60 * Math.sqrt(10);
    close(diagnostics.effectiveSampleSizeRatio, (sum * sum) / (40 * 100 + 100 + 60 * 10) / 200, 'ESS / N');
    close(diagnostics.topDecileDrawShare, (20 * 10) / sum, 'top decile: 20 of the 40 samples at F = 1');
    close(diagnostics.uncertainShare, 100 / 200, 'F > 0');
    assert.equal(diagnostics.uniform, false);
  });

  it('says "uniform" for an adaptive epoch where no sample is more uncertain, not for warm-up', () => {
    const settled = { levelCounts: [0, 50], levels: { uncertainty: [1, 0] } };
    const d = new FrozenDistribution(new Uint16Array(50).fill(1), [1, 0], 100);
    const adaptive = selectionDiagnostics(d, settled, true);
    assert.equal(adaptive.uniform, true);
    close(adaptive.effectiveSampleSizeRatio, 1, 'ESS / N');
    assert.equal(adaptive.uncertainShare, 0);
    assert.equal(selectionDiagnostics(undefined, settled, false).uniform, false, 'warm-up is uniform by design');
    assert.equal(uncertainShare({ levelCounts: [50], levels: { uncertainty: [1] } }), 1, 'never seen counts as uncertain');
  });

  it('does not call the last epoch uniform: its s_e = 1 is the schedule, not the windows', () => {
    const config = normalizeConfig({ datasetSize: 100, numClasses: 10, batchSize: 10, epochs: 8, warmupEpochs: 2 });
    assert.deepEqual([0, 1, 2, 6, 7].map((e) => meantToSelect(epochPlan(config, e))), [false, false, true, true, false]);
    const activeBias = normalizeConfig({ ...config, strategy: 'ACTIVE_BIAS' });
    assert.equal(meantToSelect(epochPlan(activeBias, 7)), true, 'Active Bias has no schedule: every adaptive epoch is meant to select');
    assert.equal(meantToSelect(epochPlan(normalizeConfig({ ...config, strategy: 'RANDOM' }), 5)), false);
  });

  it('the baselines: weights of a WeightedDistribution', () => {
    const d = new WeightedDistribution(Float64Array.of(4, 1, 1, 1, 1, 1, 1, 1, 1, 1), 4);
    const diagnostics = selectionDiagnostics(d, { levelCounts: [0, 10], levels: { uncertainty: [1, 0] } }, true);
    close(diagnostics.effectiveSampleSizeRatio, (13 * 13) / 25 / 10, 'ESS / N');
    close(diagnostics.topDecileDrawShare, 4 / 13, 'top decile');
  });

  it('agrees with sorting for 200 seeded weight arrays, ties and all', () => {
    const rng = new Rng(17);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.nextInt(3000);
      const weights = Float64Array.from({ length: n }, () => (trial % 2 ? 1 + rng.nextInt(4) : rng.nextFloat() * 100 + 0.01));
      const sorted = [...weights].sort((a, b) => b - a);
      const k = Math.ceil(n / 10);
      const expected = sorted.slice(0, k).reduce((a, b) => a + b, 0) / sorted.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(weightMass(weights).topDecile - expected) < 1e-9, `trial ${trial}`);
    }
  });
});

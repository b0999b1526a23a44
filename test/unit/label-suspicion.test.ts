// Samples suspected mislabeled (beyond the paper, after SELFIE): set by a unanimous full window
// that disagrees with the dataset label, kept through flipping windows, cleared by a unanimous
// window that agrees; excluded from the uncertain set, or refurbished, from the freeze on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrozenDistribution } from '../../src/core/distribution.js';
import { HistoryWindows } from '../../src/core/history.js';
import { LabelSuspicion, NOT_SUSPECTED } from '../../src/core/label-suspicion.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SamplerState } from '../../src/core/sampler-state.js';
import { adaptiveBatch } from '../../src/core/strategy.js';
import { SamplerError } from '../../src/core/errors.js';

/** Records one prediction per listed sample, with the given dataset labels. */
function report(history: HistoryWindows, suspicion: LabelSuspicion, entries: [sample: number, predicted: number, label: number][]) {
  const indices = Uint32Array.from(entries, ([i]) => i);
  history.record(indices, Uint32Array.from(entries, ([, p]) => p));
  suspicion.record(indices, Uint32Array.from(entries, ([, , l]) => l), history);
}

describe('label suspicion', () => {
  it('follows the rule by hand: q = 3, sample 0 labelled 1', () => {
    const history = new HistoryWindows(4, 3, 5);
    const suspicion = new LabelSuspicion(4);
    const trace: number[] = [];
    // Predictions of sample 0: 2, 2, 2 (unanimous, not its label), then 1 (flipping), 1, 1 (unanimous, its label).
    for (const predicted of [2, 2, 2, 1, 1, 1]) {
      report(history, suspicion, [[0, predicted, 1]]);
      trace.push(suspicion.consensus[0]!);
    }
    assert.deepEqual(trace, [-1, -1, 2, 2, 2, -1], 'partial windows never set it; flipping windows keep it; agreement clears it');
    assert.equal(suspicion.suspected, 0);
  });

  it('counts suspected samples and leaves the agreeing and the partial alone', () => {
    const history = new HistoryWindows(5, 2, 4);
    const suspicion = new LabelSuspicion(5);
    for (let r = 0; r < 2; r++) report(history, suspicion, [[0, 3, 0], [1, 3, 0], [2, 0, 0], [3, r, 0]]); // 3 flips
    report(history, suspicion, [[4, 2, 0]]); // one prediction: a partial window
    assert.deepEqual([...suspicion.consensus], [3, 3, NOT_SUSPECTED, NOT_SUSPECTED, NOT_SUSPECTED]);
    assert.equal(suspicion.suspected, 2);
    assert.equal(new LabelSuspicion(5, suspicion.consensus).suspected, 2, 'a restored array is counted');
  });

  it('excluded levels put a flipping suspected sample at F = 0, and leave the live levels alone', () => {
    const history = new HistoryWindows(3, 2, 4);
    const suspicion = new LabelSuspicion(3);
    for (let r = 0; r < 2; r++) report(history, suspicion, [[0, 3, 0], [1, 0, 0], [2, 0, 0]]);
    report(history, suspicion, [[0, 0, 0], [2, 2, 0]]); // sample 0 now flips (3, 0): still suspected; sample 2 flips (0, 2): not suspected
    assert.ok(history.uncertaintyOf(0) > 0 && history.uncertaintyOf(2) > 0);
    const level = suspicion.excluded(history.level, history);
    assert.equal(history.levels.uncertainty[level[0]!], 0, 'suspected: treated as certain');
    assert.equal(level[2], history.level[2], 'not suspected: as it is');
    assert.ok(history.uncertaintyOf(0) > 0, 'the windows themselves are unchanged');
  });
});

describe('NOISY_LABELS in the sampler state', () => {
  const base = { datasetSize: 8, numClasses: 4, batchSize: 4, epochs: 6, window: 2, warmupEpochs: 2, initialPressure: 100 };
  // Samples 0..1 are labelled 0 but predicted 3 every time; samples 2..7 are predicted as labelled
  // (0), except that 2 and 3 flip between 1 and 2 (uncertain, not suspected). Then 0 starts flipping.
  function trained(noisyLabels: 'IGNORE' | 'EXCLUDE' | 'REFURBISH') {
    const config = normalizeConfig({ ...base, noisyLabels });
    const state = new SamplerState(config);
    let seq = 0;
    const apply = (step: number, predicted: (i: number, r: number) => number, r: number) => {
      const indices = Uint32Array.from({ length: 8 }, (_, i) => i);
      state.apply(++seq, { step, rank: 0, indices, labels: Uint32Array.from(indices, (i) => predicted(i, r)), datasetLabels: new Uint32Array(8) });
    };
    const steady = (i: number, r: number) => (i < 2 ? 3 : i < 4 ? 1 + ((i + r) % 2) : 0);
    apply(0, steady, 0);
    apply(1, steady, 1);
    apply(2, (i, r) => (i === 0 ? 0 : steady(i, r)), 2); // sample 0: window (3, 0), flipping
    return { config, state };
  }

  it('IGNORE: a flipping mislabeled sample is as likely as any uncertain one', () => {
    const { state } = trained('IGNORE');
    const p = state.freeze(2) as FrozenDistribution;
    assert.equal(state.suspicion?.suspected, 2, 'suspicion is tracked whenever dataset labels arrive');
    assert.ok(Math.abs(p.probabilityOf(0) - p.probabilityOf(2)) < 1e-15, 'both windows hold two labels');
    const ratio = (100 ** 0.75) ** (Math.log(2) / Math.log(4)); // s_2^F against F = 0
    assert.ok(Math.abs(p.probabilityOf(0) / p.probabilityOf(4) - ratio) < 1e-9);
    assert.equal(state.refurbishedAt(2), undefined);
  });

  it('EXCLUDE: suspected samples get the P of a certain one; hand-computed P', () => {
    const { config, state } = trained('EXCLUDE');
    const p = state.freeze(2) as FrozenDistribution;
    // s_2 = 100^((6 - 1 - 2) / (6 - 2)) = 100^0.75; F = 1 for samples 2, 3 (two labels of k = 4: ln 2 / ln 4 = 0.5).
    const s = 100 ** 0.75;
    const f = Math.log(2) / Math.log(4);
    const total = 2 * s ** f + 6;
    for (const [i, expected] of [[0, 1 / total], [1, 1 / total], [2, s ** f / total], [4, 1 / total]] as const) {
      assert.ok(Math.abs(p.probabilityOf(i) - expected) < 1e-12, `P(${i}) = ${p.probabilityOf(i)}, expected ${expected}`);
    }
    assert.equal(state.refurbishedAt(2), undefined, 'EXCLUDE does not relabel');
    assert.equal(adaptiveBatch(config, 8, p).length, 4);
  });

  it('REFURBISH: the consensus frozen at the epoch start, restored from a snapshot', () => {
    const { config, state } = trained('REFURBISH');
    state.freeze(2);
    assert.deepEqual([...state.refurbishedAt(2)!], [3, 3, -1, -1, -1, -1, -1, -1]);
    // A report after the freeze clears sample 1 in the live state, not in the frozen labels.
    state.apply(99, { step: 9, rank: 0, indices: Uint32Array.of(1), labels: Uint32Array.of(0), datasetLabels: Uint32Array.of(0) });
    state.apply(100, { step: 10, rank: 0, indices: Uint32Array.of(1), labels: Uint32Array.of(0), datasetLabels: Uint32Array.of(0) });
    assert.equal(state.suspicion?.consensus[1], NOT_SUSPECTED);
    assert.equal(state.refurbishedAt(2)![1], 3);
    const restored = SamplerState.restore(config, state.snapshot());
    assert.deepEqual([...restored.refurbishedAt(2)!], [...state.refurbishedAt(2)!]);
    assert.deepEqual([...restored.suspicion!.consensus], [...state.suspicion!.consensus]);
    state.freeze(3);
    state.freeze(4);
    assert.equal(state.refurbishedAt(2), undefined, 'let go with its epoch');
  });

  it('is refused for strategies other than Recency Bias, naming the field', () => {
    assert.throws(
      () => normalizeConfig({ ...base, strategy: 'ONLINE_BATCH', noisyLabels: 'EXCLUDE' }),
      (e: unknown) => e instanceof SamplerError && e.kind === 'invalid_argument' && /^config\.noisy_labels: applies to RECENCY_BIAS only/.test(e.message),
    );
    assert.throws(
      () => normalizeConfig({ ...base, noisyLabels: 'SOMETIMES' as 'EXCLUDE' }),
      (e: unknown) => e instanceof SamplerError && /^config\.noisy_labels: must be one of IGNORE, EXCLUDE, REFURBISH/.test(e.message),
    );
  });
});

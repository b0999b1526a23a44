// What each strategy does with an epoch and a step: the pure decision of which samples form the
// global batch (spec sections 3 to 7). The service supplies the distribution frozen at the
// epoch start; the functions here build it from the per-sample state.
import { FrozenDistribution } from './distribution.js';
import type { HistoryWindows } from './history.js';
import type { LabelSuspicion } from './label-suspicion.js';
import { SeededPermutation } from './permutation.js';
import { Rng } from './random.js';
import type { SampleSignals } from './sample-signals.js';
import type { SamplerConfig } from './sampler-config.js';
import { selectionPressure, stepsPerEpoch } from './schedule.js';
import { type AllocateUint32, ownBuffer } from './typed-slab.js';
import { WeightedDistribution } from './weighted-distribution.js';

export type Phase = 'WARMUP' | 'ADAPTIVE' | 'SHUFFLE';

export interface EpochPlan {
  readonly phase: Phase;
  /**
   * s_e for Recency Bias and Online Batch: how many times likelier the most favoured sample is
   * than the least favoured. 1 whenever batches are uniform. Active Bias has no schedule: its
   * frozen distribution supplies the ratio, and its plan says 0 (unknown until frozen).
   */
  readonly pressure: number;
  /** Whether per-sample state is frozen at the epoch start. */
  readonly freezes: boolean;
  /** Whether batches are drawn from the frozen distribution (else they are permutation batches). */
  readonly weightedDraws: boolean;
  /** Whether batches carry per-index loss weights (Active Bias, reweighting variant). */
  readonly lossWeights: boolean;
}

export type EpochDistribution = FrozenDistribution | WeightedDistribution;

/** Stream tags keep the generator streams of different uses apart for the same seed. */
const PERMUTATION_STREAM = 1;
const ADAPTIVE_STREAM = 2;

const UNIFORM = { pressure: 1, freezes: false, weightedDraws: false, lossWeights: false } as const;

export function epochPlan(config: SamplerConfig, epoch: number): EpochPlan {
  if (config.strategy === 'RANDOM') return { phase: 'SHUFFLE', ...UNIFORM };
  if (epoch < config.warmupEpochs) return { phase: 'WARMUP', ...UNIFORM };
  if (config.strategy === 'ACTIVE_BIAS') {
    const reweight = config.activeBiasMode === 'REWEIGHT';
    // No schedule: the frozen distribution tells its ratio (0 stands for "not known here").
    return { phase: 'ADAPTIVE', pressure: 0, freezes: true, weightedDraws: !reweight, lossWeights: reweight };
  }
  return { phase: 'ADAPTIVE', pressure: selectionPressure(epoch, config), freezes: true, weightedDraws: true, lossWeights: false };
}

// The two functions below are part of the file format: stored batch rows hold no indices and are
// rebuilt with them (src/DESIGN.md, "A batch row holds no indices"). Changing what they return
// for a given input changes batches already served.

/** Batch `stepInEpoch` of the epoch's seeded permutation: every sample once per epoch. */
export function permutationBatch(config: SamplerConfig, epoch: number, stepInEpoch: number, allocate: AllocateUint32 = ownBuffer): Uint32Array {
  const permutation = new SeededPermutation(config.datasetSize, config.seed, PERMUTATION_STREAM, epoch);
  const start = stepInEpoch * config.batchSize;
  const end = Math.min(start + config.batchSize, config.datasetSize);
  const batch = allocate(end - start);
  for (let p = start; p < end; p++) batch[p - start] = permutation.at(p);
  return batch;
}

/** b distinct samples drawn from the epoch's frozen P; depends only on (P, seed, step). */
export function adaptiveBatch(config: SamplerConfig, step: number, distribution: EpochDistribution, allocate: AllocateUint32 = ownBuffer): Uint32Array {
  return distribution.draw(config.batchSize, new Rng(config.seed, ADAPTIVE_STREAM, step), allocate);
}

export function epochOfStep(config: SamplerConfig, step: number): { epoch: number; stepInEpoch: number } {
  const spe = stepsPerEpoch(config);
  return { epoch: Math.floor(step / spe), stepInEpoch: step % spe };
}

/**
 * What an epoch's distribution is rebuilt from: levels (Recency Bias) or one weight per sample.
 * With NOISY_LABELS_REFURBISH, also each sample's refurbished label as frozen at the epoch start.
 */
export type FrozenState = { readonly level: Uint16Array; readonly refurbished?: Int32Array | undefined } | { readonly weights: Float64Array };

/** Freezes the epoch's distribution from the per-sample state as it stands (spec sections 3, 6, 7). */
export function freezeState(
  config: SamplerConfig,
  plan: EpochPlan,
  history: HistoryWindows,
  signals: SampleSignals,
  suspicion: LabelSuspicion | undefined,
): FrozenState {
  switch (config.strategy) {
    case 'ONLINE_BATCH':
      return { weights: onlineBatchWeights(signals.latestLoss, config.datasetSize, plan.pressure) };
    case 'ACTIVE_BIAS':
      return { weights: activeBiasWeights(signals, config.activeBiasEpsilon) };
    default:
      if (config.noisyLabels === 'IGNORE' || !suspicion) return { level: history.level };
      return {
        level: suspicion.excluded(history.level, history),
        refurbished: config.noisyLabels === 'REFURBISH' ? Int32Array.from(suspicion.consensus) : undefined,
      };
  }
}

export function distributionOf(config: SamplerConfig, plan: EpochPlan, state: FrozenState, levelUncertainty: readonly number[]): EpochDistribution {
  if ('level' in state) return new FrozenDistribution(state.level, levelUncertainty, plan.pressure);
  const pressure = config.strategy === 'ACTIVE_BIAS' ? extremeRatio(state.weights) : plan.pressure;
  return new WeightedDistribution(state.weights, pressure);
}

/** The state a distribution was built from, for snapshots. */
export function stateOf(distribution: EpochDistribution): FrozenState {
  return distribution instanceof FrozenDistribution ? { level: distribution.levelOfSamples() } : { weights: distribution.weights };
}

/**
 * Online Batch: samples ranked by latest loss, largest first (rank r = 0 .. N-1), weight
 * s^(-r/N). A sample with no reported loss ranks before all others (as an unseen sample has F = 1
 * under Recency Bias: never starved); ties go to the lower index.
 */
export function onlineBatchWeights(latestLoss: Float32Array | undefined, n: number, pressure: number): Float64Array {
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const loss = latestLoss?.[i] ?? Number.NaN;
    keys[i] = Number.isNaN(loss) ? Number.POSITIVE_INFINITY : loss;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => keys[b]! - keys[a]! || a - b);
  const weights = new Float64Array(n);
  const lnStep = Math.log(pressure) / n;
  for (let r = 0; r < n; r++) weights[order[r]!] = Math.exp(-r * lnStep);
  return weights;
}

/** Active Bias: weight std_hat(i) + eps (spec section 7). */
export function activeBiasWeights(signals: SampleSignals, epsilon: number): Float64Array {
  const weights = new Float64Array(signals.size);
  for (let i = 0; i < signals.size; i++) weights[i] = signals.activeBiasStd(i) + epsilon;
  return weights;
}

/** Per-index loss weights of a batch, w(i) normalised to mean 1 over the global batch. */
export function lossWeights(weights: Float64Array, batch: Uint32Array): Float32Array {
  let sum = 0;
  for (const i of batch) sum += weights[i]!;
  const scale = batch.length / sum;
  return Float32Array.from(batch, (i) => weights[i]! * scale);
}

function extremeRatio(weights: Float64Array): number {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const w of weights) {
    if (w < min) min = w;
    if (w > max) max = w;
  }
  return weights.length === 0 ? 1 : max / min;
}

// What each strategy does with an epoch and a step: the pure decision of which samples form the
// global batch. The service supplies the frozen distribution of adaptive epochs.
import type { FrozenDistribution } from './distribution.js';
import { SeededPermutation } from './permutation.js';
import { Rng } from './random.js';
import type { SamplerConfig } from './sampler-config.js';
import { selectionPressure, stepsPerEpoch } from './schedule.js';

export type Phase = 'WARMUP' | 'ADAPTIVE' | 'SHUFFLE';

export interface EpochPlan {
  readonly phase: Phase;
  /** s_e; 1 whenever batches are uniform. */
  readonly pressure: number;
}

/** Stream tags keep the generator streams of different uses apart for the same seed. */
const PERMUTATION_STREAM = 1;
const ADAPTIVE_STREAM = 2;

export function epochPlan(config: SamplerConfig, epoch: number): EpochPlan {
  if (config.strategy === 'RANDOM') return { phase: 'SHUFFLE', pressure: 1 };
  if (epoch < config.warmupEpochs) return { phase: 'WARMUP', pressure: 1 };
  return { phase: 'ADAPTIVE', pressure: selectionPressure(epoch, config) };
}

export function needsDistribution(plan: EpochPlan): boolean {
  return plan.phase === 'ADAPTIVE';
}

/** Batch `stepInEpoch` of the epoch's seeded permutation: every sample once per epoch. */
export function permutationBatch(config: SamplerConfig, epoch: number, stepInEpoch: number): Uint32Array {
  const permutation = new SeededPermutation(config.datasetSize, config.seed, PERMUTATION_STREAM, epoch);
  const start = stepInEpoch * config.batchSize;
  const end = Math.min(start + config.batchSize, config.datasetSize);
  const batch = new Uint32Array(end - start);
  for (let p = start; p < end; p++) batch[p - start] = permutation.at(p);
  return batch;
}

/** b distinct samples drawn from the epoch's frozen P; depends only on (P, seed, step). */
export function adaptiveBatch(config: SamplerConfig, step: number, distribution: FrozenDistribution): Uint32Array {
  return distribution.draw(config.batchSize, new Rng(config.seed, ADAPTIVE_STREAM, step));
}

export function epochOfStep(config: SamplerConfig, step: number): { epoch: number; stepInEpoch: number } {
  const spe = stepsPerEpoch(config);
  return { epoch: Math.floor(step / spe), stepInEpoch: step % spe };
}

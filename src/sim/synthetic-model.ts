// A synthetic "model" for the demo, the tests and the benchmark: settled samples are always
// predicted as their class, uncertain ones get a fresh random guess each time they are seen, so
// their windows keep disagreeing. Pure and seeded: the same (sample, step) gives the same label.
import { hashWords } from '../core/random.js';

export interface SyntheticModel {
  readonly numClasses: number;
  /** Sample i is uncertain when i % uncertainEvery === 0. */
  readonly uncertainEvery: number;
  readonly seed: number;
}

export function isUncertain(model: SyntheticModel, sample: number): boolean {
  return sample % model.uncertainEvery === 0;
}

export function predict(model: SyntheticModel, sample: number, step: number): number {
  if (!isUncertain(model, sample)) return sample % model.numClasses;
  return hashWords(model.seed, sample, step) % model.numClasses;
}

export function predictBatch(model: SyntheticModel, indices: ArrayLike<number>, step: number): number[] {
  return Array.from(indices, (i) => predict(model, i, step));
}

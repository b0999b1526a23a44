// A simulated trainer on the synthetic model: asks for each step's batch over gRPC and reports
// predicted labels, losses and true-class probabilities, as a training loop would. Feeds the
// dashboard's screenshot and browser test and the HTTP tests.
import type { SamplerClient } from '../client/sampler-client.js';
import { hashWords } from '../core/random.js';
import { isUncertain, predictBatch, type SyntheticModel } from './synthetic-model.js';

export interface TrainedStep {
  readonly step: number;
  readonly rank: number;
  readonly indices: number[];
  readonly labels: number[];
}

/** Loss and true-class probability: high and erratic for uncertain samples, low for settled ones. */
export function syntheticSignal(model: SyntheticModel, sample: number, step: number): { loss: number; prob: number } {
  const noise = (hashWords(model.seed + 1, sample, step) % 1000) / 1000;
  const prob = isUncertain(model, sample) ? 0.1 + 0.6 * noise : 0.9 + 0.09 * noise;
  return { loss: -Math.log(prob), prob };
}

/** Trains steps [from, to) on every rank in turn; returns what each rank was served and reported. */
export async function trainSteps(
  client: SamplerClient,
  sampler: string,
  model: SyntheticModel,
  from: number,
  to: number,
  worldSize = 1,
): Promise<TrainedStep[]> {
  const trained: TrainedStep[] = [];
  for (let step = from; step < to; step++) {
    for (let rank = 0; rank < worldSize; rank++) {
      const { indices } = await client.nextBatch({ sampler, step, rank, worldSize });
      const labels = predictBatch(model, indices, step);
      const signals = indices.map((i) => syntheticSignal(model, i, step));
      await client.reportPredictions({
        sampler,
        step,
        rank,
        worldSize,
        indices,
        predictedLabels: labels,
        losses: signals.map((s) => s.loss),
        trueClassProbs: signals.map((s) => s.prob),
      });
      trained.push({ step, rank, indices, labels });
    }
  }
  return trained;
}

// Set-up for measurements, never what they measure: trains steps in process as one rank would,
// each step served and then its batch reported, 64 steps per call.
import type { SamplerService } from '../../src/service/sampler-service.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';

const model = { numClasses: 10, uncertainEvery: 4, seed: 1 };

export function trainInProcess(service: SamplerService, sampler: string, first: number, steps: number): void {
  for (let step = first; step < first + steps; step += 64) {
    const batches = service.nextBatches({ sampler, step, count: Math.min(64, first + steps - step) });
    service.reportMany(batches.map((b) => ({ sampler, step: b.step, indices: b.indices, predictedLabels: predictBatch(model, b.indices, b.step) })));
  }
}

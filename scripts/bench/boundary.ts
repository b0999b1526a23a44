// Epoch-boundary work for N = 10,000,000 through the service: the NextBatch call that starts an
// adaptive epoch (flush, freeze point, grouping N samples by level), against a sort of N floats.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Rng } from '../../src/core/random.js';
import { SamplerService } from '../../src/service/sampler-service.js';
import { trainInProcess } from './train.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';

const n = Number(process.argv[2] ?? 10_000_000);
const dir = mkdtempSync(join(tmpdir(), 'rs-bench-boundary-'));
const storage = new SqliteStorage(join(dir, 'b.db'));
const service = new SamplerService(storage, pino({ level: 'silent' }), { snapshotEveryPredictions: 1e12 });
service.create('b', { datasetSize: n, numClasses: 10, batchSize: 256, epochs: 100, window: 10, warmupEpochs: 3 });
// Three warm-up epochs of predictions from a model unsure of a quarter of the samples: several
// levels, mixed.
const stepsPerEpoch = Math.ceil(n / 256);
trainInProcess(service, 'b', 0, 3 * stepsPerEpoch);
const boundaries: number[] = [];
for (let epoch = 3; epoch < 9; epoch++) {
  const t0 = performance.now();
  service.nextBatch({ sampler: 'b', step: epoch * stepsPerEpoch });
  boundaries.push(performance.now() - t0);
}
const sorts: number[] = [];
const rng = new Rng(3);
for (let r = 0; r < 3; r++) {
  const floats = new Float64Array(n);
  for (let i = 0; i < n; i++) floats[i] = rng.nextFloat();
  const t0 = performance.now();
  floats.sort();
  sorts.push(performance.now() - t0);
}
console.log(JSON.stringify({ boundaries, sorts }));
storage.close();
rmSync(dir, { recursive: true, force: true });

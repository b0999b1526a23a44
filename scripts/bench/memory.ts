// Memory of one sampler with N = 10,000,000 and q = 10, measured in a fresh process: RSS after
// start-up, then after creating the sampler, touching every window and counter and freezing two adaptive
// epochs (the most it holds). The report's own arrays are garbage-collected before measuring.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FrozenDistribution } from '../../src/core/distribution.js';
import { SamplerService } from '../../src/service/sampler-service.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { trainInProcess } from './train.js';

const n = Number(process.argv[2] ?? 10_000_000);
const dir = mkdtempSync(join(tmpdir(), 'rs-bench-mem-'));
const storage = new SqliteStorage(join(dir, 'mem.db'));
const service = new SamplerService(storage, pino({ level: 'silent' }));
global.gc?.();
const before = process.memoryUsage().rss;
service.create('mem', { datasetSize: n, numClasses: 10, batchSize: 256, epochs: 100, window: 10, warmupEpochs: 1 });
// A warm-up epoch of predictions for every sample writes into every page of the windows and the
// counters, so all of it is resident (zero-filled memory never written would not count in RSS and
// flatter the figure).
const stepsPerEpoch = Math.ceil(n / 256);
trainInProcess(service, 'mem', 0, stepsPerEpoch);
service.nextBatch({ sampler: 'mem', step: stepsPerEpoch }); // freezes epoch 1
service.nextBatch({ sampler: 'mem', step: 2 * stepsPerEpoch }); // and epoch 2
// Steady state: idle-time work (drawing ahead, storing both epochs' states, compacting the older
// held epoch) has run. Until it does, just after an epoch starts, both held epochs are in full
// form; after it, the older one's grouping array is kept for the next freeze (src/DESIGN.md,
// "Held epochs"). A fixed wait of 500 ms measured before the compaction once storing the states
// came first: wait for the compaction itself.
const older = () => service.inspect('mem').state.held(1);
for (const deadline = Date.now() + 30_000; !(older() instanceof FrozenDistribution && (older() as FrozenDistribution).isCompact); ) {
  if (Date.now() > deadline) throw new Error('the older held epoch was not compacted within 30 s');
  await new Promise((resolve) => setTimeout(resolve, 50));
}
global.gc?.();
const after = process.memoryUsage().rss;
console.log(JSON.stringify({ rssBeforeMB: before / 2 ** 20, rssAfterMB: after / 2 ** 20, samplerMB: (after - before) / 2 ** 20 }));
storage.close();
rmSync(dir, { recursive: true, force: true });

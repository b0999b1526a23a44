// How large the WAL grows under one-row commits (served batches), with the checkpoint worker:
// in bursts with pauses between them, and one commit every event-loop turn with no pause at all.
// Prints the largest WAL file seen (sampled every 500 commits) and the slowest commit.
//   npx tsx scripts/bench/wal-growth.ts
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';

const COMMITS = 20_000;
const config = normalizeConfig({ datasetSize: 1000, numClasses: 10, batchSize: 10, epochs: 1000 });

async function run(pattern: 'bursts' | 'steady'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-wal-'));
  const path = join(dir, 'wal.db');
  const storage = new SqliteStorage(path);
  const { id } = storage.insertSampler('a', config, 'x');
  let largest = 0;
  let slowest = 0;
  for (let step = 0; step < COMMITS; step++) {
    const started = performance.now();
    storage.insertBatches([{ samplerId: id, batches: new Map([[step, { worldSize: 1, indices: new Uint32Array(0) }]]) }]);
    slowest = Math.max(slowest, performance.now() - started);
    if (pattern === 'steady') await new Promise((resolve) => setImmediate(resolve));
    else if (step % 1000 === 999) await sleep(150);
    if (step % 500 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
  }
  storage.close();
  rmSync(dir, { recursive: true, force: true });
  const label = pattern === 'bursts' ? 'bursts of 1,000, 150 ms apart' : 'one per event-loop turn';
  console.log(`${COMMITS} one-row commits, ${label}: largest WAL ${(largest / 1e6).toFixed(1)} MB, slowest commit ${slowest.toFixed(1)} ms`);
}

await run('bursts');
await run('steady');

// A damaged database never starts silently with altered state: 15 copies of a real database, each
// with different bytes overwritten (seeded), either refuse to start, naming the file and the fix,
// or start with everything a client can see (state, and every stored batch) exactly as before.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../../src/app.js';
import { Rng } from '../../src/core/random.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { StorageRefused } from '../../src/storage/storage-refused.js';
import { startTestServer } from '../helpers/server.js';
import { stateHash } from '../helpers/state-hash.js';

const model = { numClasses: 5, uncertainEvery: 3, seed: 4 };
const STEPS = 60;

async function everything(app: RunningApp): Promise<string> {
  const batches: string[] = [];
  for (let step = 0; step < STEPS; step++) batches.push(app.service.nextBatch({ sampler: 'job', step, rank: 0, worldSize: 2 }).indices.join(','));
  return `${await stateHash(app, ['job'], true)} ${batches.join('|')}`;
}

describe('a damaged database file', () => {
  it('refuses to start, naming the file and the fix, or starts with nothing altered (15 seeded corruptions)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'recency-sampler-corrupt-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const original = join(dir, 'original.db');
    // A database with every kind of row: batches, reports, freeze points, snapshots, epoch history.
    const { app, client } = await startTestServer({ after: () => {} }, original);
    await client.createSampler('job', { datasetSize: 300, numClasses: 5, batchSize: 30, epochs: 8, window: 3, warmupEpochs: 2 });
    for (let step = 0; step < STEPS; step++) {
      const shares = await Promise.all([0, 1].map((rank) => client.nextBatch({ sampler: 'job', step, rank, worldSize: 2 })));
      await Promise.all(
        shares.map((share, rank) =>
          client.reportPredictions({ sampler: 'job', step, rank, indices: share.indices, predictedLabels: predictBatch(model, share.indices, step) }),
        ),
      );
    }
    const reference = await everything(app);
    client.close();
    await app.close();

    const size = statSync(original).size;
    const rng = new Rng(77);
    const outcomes = { refused: 0, unaltered: 0 };
    for (let copy = 0; copy < 15; copy++) {
      const path = join(dir, `copy-${copy}.db`);
      copyFileSync(original, path);
      // Overwrite 1 to 64 bytes at a random offset past the 100-byte file header.
      const length = 1 + rng.nextInt(64);
      const offset = 100 + rng.nextInt(size - 100 - length);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from(Array.from({ length }, () => rng.nextInt(256))), 0, length, offset);
      closeSync(fd);
      let started: RunningApp | undefined;
      try {
        started = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db: path, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
      } catch (error) {
        assert.ok(error instanceof StorageRefused, `copy ${copy} (bytes ${offset}..${offset + length}): ${(error as Error).stack}`);
        assert.match(error.message, new RegExp(`database ${path} is damaged.*Restore the file from a backup`));
        outcomes.refused++;
        continue;
      }
      try {
        let seen: string;
        try {
          seen = await everything(started);
        } catch (error) {
          // A damaged row read on demand: refused at that call, never served altered.
          assert.ok(error instanceof StorageRefused, `copy ${copy}: ${(error as Error).stack}`);
          outcomes.refused++;
          continue;
        }
        assert.equal(seen, reference, `copy ${copy} (bytes ${offset}..${offset + length}) started with altered state`);
        outcomes.unaltered++;
      } finally {
        await started.close();
      }
    }
    t.diagnostic(`of 15 damaged copies: ${outcomes.refused} refused, ${outcomes.unaltered} started unaltered`);
  });
});

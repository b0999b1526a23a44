// The WAL checkpoint worker: it keeps the WAL short while the service writes, and once the
// storage is closed nothing in the process touches the database's directory any more.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const config = normalizeConfig({ datasetSize: 100_000, numClasses: 10, batchSize: 25_000, epochs: 4 });

/** Commits `megabytes` MB of reports, one transaction per 200 kB report. */
function writeReports(storage: SqliteStorage, samplerId: number, megabytes: number, firstStep = 0): void {
  const indices = new Uint32Array(25_000).map((_, i) => i);
  for (let i = 0; i < megabytes * 5; i++) {
    storage.appendReports([{ samplerId, report: { step: firstStep + i, rank: 0, indices, labels: indices } }]);
  }
}

describe('SQLite storage with the checkpoint worker', () => {
  it('leaves the database (and its writer lock) alone in its directory once closed, even right after a checkpoint was asked for', async (t) => {
    for (let trial = 0; trial < 3; trial++) {
      const path = tempDbPath(t);
      const storage = new SqliteStorage(path);
      const { id } = storage.insertSampler('a', config, 'x');
      writeReports(storage, id, 5); // past the 4 MB threshold: a checkpoint was asked for
      storage.close();
      // A worker still running would open the file now and create -wal and -shm for a moment.
      const seen = new Set<string>();
      for (const started = Date.now(); Date.now() - started < 1000; await sleep(1)) {
        for (const name of readdirSync(dirname(path))) seen.add(name);
      }
      assert.deepEqual([...seen].sort(), ['sampler.db', 'sampler.db.lock'], `trial ${trial}: files seen in the second after close`);
    }
  });

  it('checkpoints in the background, so the WAL stays near the threshold under steady writes', async (t) => {
    const path = tempDbPath(t);
    const storage = new SqliteStorage(path);
    const { id } = storage.insertSampler('a', config, 'x');
    // SQLite's auto-checkpoint is off with the worker: without it, 80 MB written = an 80 MB WAL.
    for (let round = 0; round < 16; round++) {
      writeReports(storage, id, 5, round * 100);
      await sleep(100); // the worker checkpoints between writes (PASSIVE: it never blocks them)
    }
    const wal = statSync(join(dirname(path), 'sampler.db-wal')).size;
    storage.close();
    assert.ok(wal < 16 * 2 ** 20, `WAL of ${(wal / 2 ** 20).toFixed(1)} MB after 80 MB written`);
  });

  it('counts the pages a commit writes, so one-row commits keep the WAL near the threshold too', async (t) => {
    // A served batch's row is a few bytes, but each commit appends whole pages (its table's and its
    // index's): counting rows alone asked for no checkpoint before 65,536 of them (164 MB here).
    const path = tempDbPath(t);
    const storage = new SqliteStorage(path);
    const { id } = storage.insertSampler('a', config, 'x');
    let step = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++, step++) {
        storage.insertBatches([{ samplerId: id, batches: new Map([[step, { worldSize: 1, indices: new Uint32Array(0) }]]) }]);
      }
      await sleep(150); // as the other test: the worker checkpoints between bursts
    }
    const wal = statSync(join(dirname(path), 'sampler.db-wal')).size;
    storage.close();
    assert.ok(wal < 16 * 2 ** 20, `WAL of ${(wal / 2 ** 20).toFixed(1)} MB after 20,000 one-row commits`);
  });
});

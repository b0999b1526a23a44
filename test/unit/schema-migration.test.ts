// A database written by an older release opens with its served batches intact: migration 6 moves
// them to a rowid table, and every step is served again as first served, with its split.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { SamplerService } from '../../src/service/sampler-service.js';
import { toBlob } from '../../src/storage/bytes.js';
import { rowChecksum } from '../../src/storage/checksum.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { migrate } from '../../src/storage/migrations.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const log = pino({ level: 'silent' });
const config = normalizeConfig({ datasetSize: 300, numClasses: 4, batchSize: 30, epochs: 2, seed: 9 });
// Steps 0..5 were served before the upgrade, to 1 or 2 ranks.
const worldSizeOf = (step: number) => (step % 2 === 0 ? 1 : 2);

describe('migrating a database of schema version 5', () => {
  it('keeps every served batch and its split, and serves new steps as before', (t) => {
    const path = tempDbPath(t);
    const reference = new SamplerService(new MemoryStorage(), log);
    reference.create('old', config);
    const global = (step: number) =>
      Array.from({ length: worldSizeOf(step) }, (_, rank) => reference.nextBatch({ sampler: 'old', step, rank, worldSize: worldSizeOf(step) }).indices).flatMap((a) => [...a]);

    const old = new Database(path);
    migrate(old, 5);
    const fields = ['old', JSON.stringify(config), '2026-01-01T00:00:00.000Z'] as const;
    const id = Number(old.prepare('INSERT INTO samplers (name, config, created_at, checksum) VALUES (?, ?, ?, ?)').run(...fields, rowChecksum(fields)).lastInsertRowid);
    const insert = old.prepare('INSERT INTO batches (sampler_id, step, world_size, indices, checksum) VALUES (?, ?, ?, ?, ?)');
    for (let step = 0; step < 6; step++) {
      const indices = toBlob(Uint32Array.from(global(step)));
      insert.run(id, step, worldSizeOf(step), indices, rowChecksum([id, step, worldSizeOf(step), indices]));
    }
    old.close();

    const storage = new SqliteStorage(path);
    t.after(() => storage.close());
    assert.equal(storage.highestBatchStep(id), 5);
    for (let step = 0; step < 6; step++) assert.deepEqual(storage.findBatch(id, step), { worldSize: worldSizeOf(step), indices: Uint32Array.from(global(step)) });
    const service = new SamplerService(storage, log);
    // The split pinned before the upgrade holds before any rank asks again.
    assert.throws(() => service.nextBatch({ sampler: 'old', step: 1, worldSize: 1 }), /world_size: step 1 was split among 2 ranks/);
    for (let step = 0; step < 6; step++) {
      const shares = Array.from({ length: worldSizeOf(step) }, (_, rank) => [...service.nextBatch({ sampler: 'old', step, rank, worldSize: worldSizeOf(step) }).indices]);
      assert.deepEqual(shares.flat(), global(step), `step ${step}`);
    }
    assert.deepEqual([...service.nextBatch({ sampler: 'old', step: 6 }).indices], global(6));
  });
});

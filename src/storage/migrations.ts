// Schema migrations, applied in order and recorded in user_version. A released migration is
// frozen: change the schema only by appending a new one.
import type Database from 'better-sqlite3';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE samplers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE batches (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    world_size INTEGER NOT NULL,
    indices BLOB NOT NULL,
    PRIMARY KEY (sampler_id, step)
  ) WITHOUT ROWID;
  CREATE TABLE reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    indices BLOB NOT NULL,
    labels BLOB NOT NULL,
    losses BLOB,
    probs BLOB,
    UNIQUE (sampler_id, step, rank)
  );
  CREATE TABLE freezes (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (sampler_id, epoch)
  ) WITHOUT ROWID;
  CREATE TABLE snapshots (
    sampler_id INTEGER PRIMARY KEY REFERENCES samplers (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    predictions INTEGER NOT NULL,
    labels BLOB NOT NULL,
    valid BLOB NOT NULL,
    level BLOB NOT NULL,
    level_keys BLOB NOT NULL,
    level_uncertainty BLOB NOT NULL,
    frozen TEXT NOT NULL
  );
  CREATE TABLE snapshot_frozen (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    level BLOB NOT NULL,
    PRIMARY KEY (sampler_id, epoch)
  );
  `,
  // 2: what the Online Batch and Active Bias baselines learn, and their frozen weights; what the
  // inspection API shows (draw counts, last reported steps, reports per rank, epoch history).
  `
  ALTER TABLE snapshots ADD COLUMN drawn BLOB;
  ALTER TABLE snapshots ADD COLUMN last_reported BLOB;
  ALTER TABLE snapshots ADD COLUMN counted_steps TEXT;
  ALTER TABLE snapshots ADD COLUMN rank_reports TEXT;
  CREATE TABLE epoch_stats (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    stats TEXT NOT NULL,
    PRIMARY KEY (sampler_id, epoch)
  ) WITHOUT ROWID;
  ALTER TABLE snapshots ADD COLUMN latest_loss BLOB;
  ALTER TABLE snapshots ADD COLUMN prob_count BLOB;
  ALTER TABLE snapshots ADD COLUMN prob_mean BLOB;
  ALTER TABLE snapshots ADD COLUMN prob_m2 BLOB;
  ALTER TABLE snapshot_frozen ADD COLUMN weights BLOB;
  `,
  // 3: a CRC-32 per row of what recovery reads (src/storage/checksum.ts); NULL in older rows.
  `
  ALTER TABLE batches ADD COLUMN checksum INTEGER;
  ALTER TABLE reports ADD COLUMN checksum INTEGER;
  ALTER TABLE snapshots ADD COLUMN checksum INTEGER;
  ALTER TABLE snapshot_frozen ADD COLUMN checksum INTEGER;
  ALTER TABLE samplers ADD COLUMN checksum INTEGER;
  ALTER TABLE freezes ADD COLUMN checksum INTEGER;
  ALTER TABLE epoch_stats ADD COLUMN checksum INTEGER;
  `,
  // 4: snapshots as the state encodes them (src/core/snapshot.ts): a JSON header and named byte
  // parts, so a new field of the state needs no column. Snapshots of the earlier layout are
  // dropped: the report log and the freeze points are complete, so the first start after the
  // upgrade rebuilds the state by replaying them (a snapshot only shortens recovery).
  `
  DROP TABLE snapshot_frozen;
  DROP TABLE snapshots;
  CREATE TABLE snapshots (
    sampler_id INTEGER PRIMARY KEY REFERENCES samplers (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    meta TEXT NOT NULL,
    checksum INTEGER NOT NULL
  );
  CREATE TABLE snapshot_parts (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    checksum INTEGER NOT NULL,
    PRIMARY KEY (sampler_id, name)
  ) WITHOUT ROWID;
  `,
  // 5: the labels the data set gives a report's indices (NOISY_LABELS); NULL when not sent.
  `
  ALTER TABLE reports ADD COLUMN dataset_labels BLOB;
  `,
  // 6: served batches in a rowid table. A row is about 1 KB (b = 256 indices), and WITHOUT ROWID
  // suits small rows only: committing one batch of 256 took 130 us, now 47 (the last row of
  // `npm run bench -- --only next`). Rows are copied as they are, checksums included.
  `
  CREATE TABLE batches_v6 (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    world_size INTEGER NOT NULL,
    indices BLOB NOT NULL,
    checksum INTEGER,
    UNIQUE (sampler_id, step)
  );
  INSERT INTO batches_v6 (sampler_id, step, world_size, indices, checksum)
    SELECT sampler_id, step, world_size, indices, checksum FROM batches ORDER BY sampler_id, step;
  DROP TABLE batches;
  ALTER TABLE batches_v6 RENAME TO batches;
  `,
  // 7: the state each adaptive epoch's distribution was frozen from (levels, 2 bytes a sample, or
  // weights, 8), so that a batch row need not hold its indices: the batch is rebuilt from it, the
  // seed and the step (a smaller file; a row commits a few microseconds faster: README "The service").
  `
  CREATE TABLE epoch_states (
    sampler_id INTEGER NOT NULL REFERENCES samplers (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state BLOB NOT NULL,
    checksum INTEGER NOT NULL,
    PRIMARY KEY (sampler_id, epoch)
  );
  `,
];

/** Brings the schema to `target` (default: the latest); tests stop earlier to make older files. */
export function migrate(db: Database.Database, target = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this build knows (${MIGRATIONS.length})`);
  }
  for (let version = current; version < target; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

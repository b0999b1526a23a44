// SQLite storage: an append-only report log, the served batches, epoch freeze points and one
// snapshot per sampler. WAL mode; every write is its own short transaction that never spans an
// await, and a call returns only after its commit, so an acknowledged write survives kill -9.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { withLaterDefaults, type SamplerConfig } from '../core/sampler-config.js';
import { fromBlob, toBlob } from './bytes.js';
import { CHECKPOINT_EVERY_BYTES, Checkpointer } from './checkpointer.js';
import { WriterLock } from './writer-lock.js';
import { rowChecksum, verifyRow, type Field } from './checksum.js';
import { StorageRefused } from './storage-refused.js';
import { migrate } from './migrations.js';
import type {
  BatchWrite,
  EpochStats,
  FreezePoint,
  LoggedReport,
  ReportRecord,
  Snapshot,
  Storage,
  StoredBatch,
  StoredEpochState,
  StoredSampler,
} from './storage.js';

export type Synchronous = 'NORMAL' | 'FULL';

export interface SqliteOptions {
  /**
   * Checkpoint the WAL from a worker thread (default: true for a file). Off, SQLite checkpoints
   * automatically inside whichever commit crosses 1000 pages, stalling the event loop for ms.
   */
  /** Caps the file at this many pages: writes past it fail with SQLITE_FULL (how tests fill a disk). */
  readonly maxPageCount?: number;
  readonly checkpointInWorker?: boolean;
  readonly onCheckpointError?: (message: string) => void;
  /**
   * NORMAL (default): a commit reaches the OS before it is acknowledged, so it survives the
   * process being killed; an OS crash or power loss may lose the last commits. FULL: each commit
   * is fsynced, surviving power loss at a much higher cost per write.
   */
  readonly synchronous?: Synchronous;
}

interface ReportRow {
  seq: number;
  step: number;
  rank: number;
  indices: Buffer;
  labels: Buffer;
  losses: Buffer | null;
  probs: Buffer | null;
  dataset_labels: Buffer | null;
  checksum: number | null;
}

const orNull = (view: ArrayBufferView | undefined) => (view ? toBlob(view) : null);

/** A report's checksummed fields: dataset labels (migration 5) only when present, so older rows keep their checksums. */
const reportChecksumFields = (fields: readonly Field[], datasetLabels: Uint8Array | null): readonly Field[] =>
  datasetLabels ? [...fields, datasetLabels] : fields;

/** About how many bytes a report's row holds. */
const reportBytes = (r: ReportRecord): number =>
  r.indices.byteLength * (r.datasetLabels ? 2 : 1) + r.labels.byteLength + (r.losses?.byteLength ?? 0) + (r.trueClassProbs?.byteLength ?? 0) + 64;

/** A refusal naming the file and the fix when SQLite finds the file damaged or not a database at all. */
export function damaged(path: string, error: unknown): StorageRefused | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB' && !(typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) return undefined;
  return new StorageRefused(
    `database ${path} is damaged (${code}: ${(error as Error).message}). Restore the file from a backup, ` +
      'or move it away to start with an empty database',
  );
}

export class SqliteStorage implements Storage {
  private readonly db!: Database.Database;
  private readonly statements;
  /**
   * The hot transactions, made once: db.transaction() builds a new wrapper on each call. A one-row
   * commit took 48 to 59 us with it, 33 to 48 without, on the 2-core machine (`npm run bench --
   * --only commit`, alternated runs: README "The service").
   */
  private readonly transactions;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly lock: WriterLock | undefined;

  constructor(
    private readonly path: string,
    options: SqliteOptions = {},
  ) {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      this.lock = new WriterLock(path);
    }
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${options.maxPageCount}`);
      this.db.pragma('busy_timeout = 5000'); // the checkpoint worker's connection may hold a lock briefly
      this.checkIntegrity();
      migrate(this.db);
    } catch (error) {
      if (this.db?.open) this.db.close();
      this.lock?.release();
      throw damaged(path, error) ?? error;
    }
    if (path !== ':memory:' && options.checkpointInWorker !== false) {
      this.db.pragma('wal_autocheckpoint = 0');
      // When a write rewinds the checkpointed WAL, the file is cut back to this size, so a burst
      // written before the worker caught up does not hold disk space for the life of the file.
      this.db.pragma(`journal_size_limit = ${2 * CHECKPOINT_EVERY_BYTES}`);
      this.checkpointer = new Checkpointer(path, options.onCheckpointError ?? (() => {}));
    }
    const db = this.db;
    this.statements = {
      samplers: db.prepare<[], { id: number; name: string; config: string; created_at: string; checksum: number | null }>(
        'SELECT id, name, config, created_at, checksum FROM samplers ORDER BY id',
      ),
      insertSampler: db.prepare('INSERT INTO samplers (name, config, created_at, checksum) VALUES (?, ?, ?, ?)'),
      deleteSampler: db.prepare('DELETE FROM samplers WHERE id = ?'),
      findBatch: db.prepare<[number, number], { world_size: number; indices: Buffer; checksum: number | null }>(
        'SELECT world_size, indices, checksum FROM batches WHERE sampler_id = ? AND step = ?',
      ),
      insertBatch: db.prepare('INSERT OR IGNORE INTO batches (sampler_id, step, world_size, indices, checksum) VALUES (?, ?, ?, ?, ?)'),
      highestBatchStep: db.prepare<[number], { step: number | null }>('SELECT MAX(step) AS step FROM batches WHERE sampler_id = ?'),
      appendReport: db.prepare(
        `INSERT INTO reports (sampler_id, step, rank, indices, labels, losses, probs, dataset_labels, checksum)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sampler_id, step, rank) DO NOTHING`,
      ),
      reportsAfter: db.prepare<[number, number], ReportRow>(
        `SELECT seq, step, rank, indices, labels, losses, probs, dataset_labels, checksum FROM reports
         WHERE sampler_id = ? AND seq > ? ORDER BY seq`,
      ),
      recordFreeze: db.prepare('INSERT OR REPLACE INTO freezes (sampler_id, epoch, seq, checksum) VALUES (?, ?, ?, ?)'),
      loadFreezes: db.prepare<[number], FreezePoint & { checksum: number | null }>(
        'SELECT epoch, seq, checksum FROM freezes WHERE sampler_id = ? ORDER BY seq, epoch',
      ),
      writeSnapshot: db.prepare('INSERT OR REPLACE INTO snapshots (sampler_id, seq, meta, checksum) VALUES (?, ?, ?, ?)'),
      loadSnapshot: db.prepare<[number], { seq: number; meta: string; checksum: number }>(
        'SELECT seq, meta, checksum FROM snapshots WHERE sampler_id = ?',
      ),
      deleteParts: db.prepare('DELETE FROM snapshot_parts WHERE sampler_id = ?'),
      insertPart: db.prepare('INSERT INTO snapshot_parts (sampler_id, name, data, checksum) VALUES (?, ?, ?, ?)'),
      loadParts: db.prepare<[number], { name: string; data: Buffer; checksum: number }>(
        'SELECT name, data, checksum FROM snapshot_parts WHERE sampler_id = ? ORDER BY name',
      ),
      batchesFrom: db.prepare<[number, number], { step: number; world_size: number; indices: Buffer; checksum: number | null }>(
        'SELECT step, world_size, indices, checksum FROM batches WHERE sampler_id = ? AND step >= ? ORDER BY step',
      ),
      storeEpochState: db.prepare('INSERT OR IGNORE INTO epoch_states (sampler_id, epoch, kind, state, checksum) VALUES (?, ?, ?, ?, ?)'),
      loadEpochState: db.prepare<[number, number], { kind: string; state: Buffer; checksum: number }>(
        'SELECT kind, state, checksum FROM epoch_states WHERE sampler_id = ? AND epoch = ?',
      ),
      storedEpochStates: db.prepare<[number], { epoch: number }>('SELECT epoch FROM epoch_states WHERE sampler_id = ? ORDER BY epoch'),
      recordEpochStats: db.prepare('INSERT OR REPLACE INTO epoch_stats (sampler_id, epoch, stats, checksum) VALUES (?, ?, ?, ?)'),
      loadEpochStats: db.prepare<[number], { epoch: number; stats: string; checksum: number | null }>(
        'SELECT epoch, stats, checksum FROM epoch_stats WHERE sampler_id = ? ORDER BY epoch',
      ),
    };
    this.transactions = {
      insertBatches: db.transaction((writes: readonly BatchWrite[]) => {
        let bytes = 0;
        for (const { samplerId, batches, epochStats = [] } of writes) {
          for (const [step, batch] of batches) {
            const indices = toBlob(batch.indices);
            this.statements.insertBatch.run(samplerId, step, batch.worldSize, indices, rowChecksum([samplerId, step, batch.worldSize, indices]));
            bytes += batch.indices.byteLength + 64;
          }
          for (const stats of epochStats) this.recordEpochStats(samplerId, stats);
        }
        this.checkpointer?.committed(bytes);
      }),
      appendReports: db.transaction((reports: readonly { readonly samplerId: number; readonly report: ReportRecord }[]) => {
        const seqs = reports.map(({ samplerId, report }) => this.appendOne(samplerId, report));
        this.checkpointer?.committed(reports.reduce((bytes, { report }) => bytes + reportBytes(report), 0));
        return seqs;
      }),
    };
  }

  loadSamplers(): StoredSampler[] {
    return this.statements.samplers.all().map((row) => {
      verifyRow(this.path, `sampler ${row.id}`, row.checksum, [row.name, row.config, row.created_at]);
      return { id: row.id, name: row.name, config: withLaterDefaults(JSON.parse(row.config) as SamplerConfig), createdAt: row.created_at };
    });
  }

  insertSampler(name: string, config: SamplerConfig, createdAt: string): StoredSampler {
    const fields = [name, JSON.stringify(config), createdAt] as const;
    const result = this.statements.insertSampler.run(...fields, rowChecksum(fields));
    this.checkpointer?.committed(fields[1].length);
    return { id: Number(result.lastInsertRowid), name, config, createdAt };
  }

  deleteSampler(id: number): void {
    // Child rows go with ON DELETE CASCADE, in the same transaction.
    this.statements.deleteSampler.run(id);
    this.checkpointer?.committed(0);
  }

  findBatch(samplerId: number, step: number): StoredBatch | undefined {
    const row = this.statements.findBatch.get(samplerId, step);
    if (!row) return undefined;
    verifyRow(this.path, `the batch of step ${step} (sampler ${samplerId})`, row.checksum, [samplerId, step, row.world_size, row.indices]);
    return { worldSize: row.world_size, indices: fromBlob(row.indices, Uint32Array) };
  }

  insertBatches(writes: readonly BatchWrite[]): void {
    this.transactions.insertBatches(writes);
  }

  *batchesFrom(samplerId: number, fromStep: number): Iterable<{ step: number; indices: Uint32Array }> {
    for (const row of this.statements.batchesFrom.iterate(samplerId, fromStep)) {
      verifyRow(this.path, `the batch of step ${row.step} (sampler ${samplerId})`, row.checksum, [samplerId, row.step, row.world_size, row.indices]);
      yield { step: row.step, indices: fromBlob(row.indices, Uint32Array) };
    }
  }

  storeEpochState(samplerId: number, epoch: number, state: StoredEpochState): void {
    const [kind, data] = 'level' in state ? ['level', state.level] : ['weights', state.weights];
    const fields = [samplerId, epoch, kind, toBlob(data)] as const;
    this.statements.storeEpochState.run(...fields, rowChecksum(fields));
    this.checkpointer?.committed(data.byteLength + 64);
  }

  loadEpochState(samplerId: number, epoch: number): StoredEpochState | undefined {
    const row = this.statements.loadEpochState.get(samplerId, epoch);
    if (!row) return undefined;
    verifyRow(this.path, `the state of epoch ${epoch} (sampler ${samplerId})`, row.checksum, [samplerId, epoch, row.kind, row.state]);
    return row.kind === 'level' ? { level: fromBlob(row.state, Uint16Array) } : { weights: fromBlob(row.state, Float64Array) };
  }

  storedEpochStates(samplerId: number): number[] {
    return this.statements.storedEpochStates.all(samplerId).map((row) => row.epoch);
  }

  recordEpochStats(samplerId: number, stats: EpochStats): void {
    const fields = [samplerId, stats.epoch, JSON.stringify(stats)] as const;
    this.statements.recordEpochStats.run(...fields, rowChecksum(fields));
  }

  loadEpochStats(samplerId: number): EpochStats[] {
    return this.statements.loadEpochStats.all(samplerId).map((row) => {
      verifyRow(this.path, `the statistics of epoch ${row.epoch} (sampler ${samplerId})`, row.checksum, [samplerId, row.epoch, row.stats]);
      return JSON.parse(row.stats) as EpochStats;
    });
  }

  highestBatchStep(samplerId: number): number {
    return this.statements.highestBatchStep.get(samplerId)?.step ?? -1;
  }

  appendReports(reports: readonly { readonly samplerId: number; readonly report: ReportRecord }[]): (number | undefined)[] {
    return this.transactions.appendReports(reports);
  }

  private appendOne(samplerId: number, r: ReportRecord): number | undefined {
    const given = orNull(r.datasetLabels);
    const fields = [samplerId, r.step, r.rank, toBlob(r.indices), toBlob(r.labels), orNull(r.losses), orNull(r.trueClassProbs)] as const;
    const result = this.statements.appendReport.run(...fields, given, rowChecksum(reportChecksumFields(fields, given)));
    return result.changes === 0 ? undefined : Number(result.lastInsertRowid);
  }

  *reportsAfter(samplerId: number, afterSeq: number): Iterable<LoggedReport> {
    for (const row of this.statements.reportsAfter.iterate(samplerId, afterSeq)) {
      const fields = [samplerId, row.step, row.rank, row.indices, row.labels, row.losses, row.probs];
      const what = `report ${row.seq} (sampler ${samplerId}, step ${row.step}, rank ${row.rank})`;
      verifyRow(this.path, what, row.checksum, reportChecksumFields(fields, row.dataset_labels));
      yield {
        seq: row.seq,
        step: row.step,
        rank: row.rank,
        indices: fromBlob(row.indices, Uint32Array),
        labels: fromBlob(row.labels, Uint32Array),
        losses: row.losses ? fromBlob(row.losses, Float32Array) : undefined,
        trueClassProbs: row.probs ? fromBlob(row.probs, Float32Array) : undefined,
        datasetLabels: row.dataset_labels ? fromBlob(row.dataset_labels, Uint32Array) : undefined,
      };
    }
  }

  recordFreeze(samplerId: number, point: FreezePoint): void {
    const fields = [samplerId, point.epoch, point.seq] as const;
    this.statements.recordFreeze.run(...fields, rowChecksum(fields));
    this.checkpointer?.committed(64);
  }

  loadFreezes(samplerId: number): FreezePoint[] {
    return this.statements.loadFreezes.all(samplerId).map(({ epoch, seq, checksum }) => {
      verifyRow(this.path, `the freeze point of epoch ${epoch} (sampler ${samplerId})`, checksum, [samplerId, epoch, seq]);
      return { epoch, seq };
    });
  }

  writeSnapshot(samplerId: number, snapshot: Snapshot): void {
    this.db.transaction(() => {
      const header = [samplerId, snapshot.seq, snapshot.meta] as const;
      this.statements.writeSnapshot.run(...header, rowChecksum(header));
      this.statements.deleteParts.run(samplerId);
      for (const [name, data] of snapshot.parts) {
        const part = [samplerId, name, toBlob(data)] as const;
        this.statements.insertPart.run(...part, rowChecksum(part));
      }
    })();
    let bytes = snapshot.meta.length;
    for (const data of snapshot.parts.values()) bytes += data.byteLength;
    this.checkpointer?.committed(bytes);
  }

  loadSnapshot(samplerId: number): Snapshot | undefined {
    const row = this.statements.loadSnapshot.get(samplerId);
    if (!row) return undefined;
    verifyRow(this.path, `the snapshot of sampler ${samplerId}`, row.checksum, [samplerId, row.seq, row.meta]);
    const parts = new Map<string, Uint8Array>();
    for (const part of this.statements.loadParts.iterate(samplerId)) {
      verifyRow(this.path, `snapshot part ${part.name} of sampler ${samplerId}`, part.checksum, [samplerId, part.name, part.data]);
      parts.set(part.name, fromBlob(part.data, Uint8Array));
    }
    return { seq: row.seq, meta: row.meta, parts };
  }

  /** SQLite's check of every page's structure (blobs' bytes are the rows' checksums' job). */
  private checkIntegrity(): void {
    const problems = (this.db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check.replace(/\s+/g, ' '));
    if (problems.length === 1 && problems[0] === 'ok') return;
    throw new StorageRefused(
      `database ${this.path} is damaged (quick_check: ${problems.join('; ')}). Restore the file from a backup, ` +
        'or move it away to start with an empty database',
    );
  }

  /** Stops the checkpoint worker (it finishes a checkpoint under way), checkpoints the rest and closes. */
  close(): void {
    if (!this.db.open) return;
    this.checkpointer?.close();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    this.lock?.release();
  }
}

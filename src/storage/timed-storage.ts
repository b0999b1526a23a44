// The same storage with every write timed (the db_write_duration_seconds histogram). A class that
// implements Storage, so the compiler names any method a change to the port leaves out here.
import type { SamplerConfig } from '../core/sampler-config.js';
import type { BatchWrite, EpochStats, FreezePoint, ReportRecord, Snapshot, Storage, StoredEpochState, StoredSampler } from './storage.js';

export class TimedStorage implements Storage {
  constructor(
    private readonly storage: Storage,
    private readonly observe: (operation: string, seconds: number) => void,
  ) {}

  private timed<T>(operation: string, write: () => T): T {
    const started = performance.now();
    try {
      return write();
    } finally {
      this.observe(operation, (performance.now() - started) / 1000);
    }
  }

  // Writes: timed.
  insertSampler(name: string, config: SamplerConfig, createdAt: string): StoredSampler {
    return this.timed('insertSampler', () => this.storage.insertSampler(name, config, createdAt));
  }
  deleteSampler(id: number): void {
    this.timed('deleteSampler', () => this.storage.deleteSampler(id));
  }
  insertBatches(writes: readonly BatchWrite[]): void {
    this.timed('insertBatches', () => this.storage.insertBatches(writes));
  }
  recordEpochStats(samplerId: number, stats: EpochStats): void {
    this.timed('recordEpochStats', () => this.storage.recordEpochStats(samplerId, stats));
  }
  appendReports(reports: readonly { readonly samplerId: number; readonly report: ReportRecord }[]): (number | undefined)[] {
    return this.timed('appendReports', () => this.storage.appendReports(reports));
  }
  storeEpochState(samplerId: number, epoch: number, state: StoredEpochState): void {
    this.timed('storeEpochState', () => this.storage.storeEpochState(samplerId, epoch, state));
  }
  recordFreeze(samplerId: number, point: FreezePoint): void {
    this.timed('recordFreeze', () => this.storage.recordFreeze(samplerId, point));
  }
  writeSnapshot(samplerId: number, snapshot: Snapshot): void {
    this.timed('writeSnapshot', () => this.storage.writeSnapshot(samplerId, snapshot));
  }

  // Reads and the rest: passed through.
  loadSamplers() {
    return this.storage.loadSamplers();
  }
  findBatch(samplerId: number, step: number) {
    return this.storage.findBatch(samplerId, step);
  }
  highestBatchStep(samplerId: number) {
    return this.storage.highestBatchStep(samplerId);
  }
  batchesFrom(samplerId: number, fromStep: number) {
    return this.storage.batchesFrom(samplerId, fromStep);
  }
  loadEpochStats(samplerId: number) {
    return this.storage.loadEpochStats(samplerId);
  }
  reportsAfter(samplerId: number, afterSeq: number) {
    return this.storage.reportsAfter(samplerId, afterSeq);
  }
  loadEpochState(samplerId: number, epoch: number) {
    return this.storage.loadEpochState(samplerId, epoch);
  }
  storedEpochStates(samplerId: number) {
    return this.storage.storedEpochStates(samplerId);
  }
  loadFreezes(samplerId: number) {
    return this.storage.loadFreezes(samplerId);
  }
  loadSnapshot(samplerId: number) {
    return this.storage.loadSnapshot(samplerId);
  }
  close(): void {
    this.storage.close();
  }
}

// In-memory storage: the same contract as SQLite with no durability, for tests and for runs that
// do not need to survive a restart (--db :memory: uses SQLite's own memory mode instead).
import type { SamplerConfig } from '../core/sampler-config.js';
import type { BatchWrite, EpochStats, FreezePoint, LoggedReport, ReportRecord, Snapshot, Storage, StoredBatch, StoredEpochState, StoredSampler } from './storage.js';

interface SamplerRecords {
  readonly sampler: StoredSampler;
  readonly batches: Map<number, StoredBatch>;
  readonly reports: LoggedReport[];
  readonly reportKeys: Set<string>;
  readonly freezes: Map<number, number>;
  readonly epochStats: Map<number, EpochStats>;
  readonly epochStates: Map<number, StoredEpochState>;
  snapshot: Snapshot | undefined;
}

export class MemoryStorage implements Storage {
  private readonly samplers = new Map<number, SamplerRecords>();
  private nextSamplerId = 1;
  private nextSeq = 1;

  loadSamplers(): StoredSampler[] {
    return [...this.samplers.values()].map((r) => r.sampler);
  }

  insertSampler(name: string, config: SamplerConfig, createdAt: string): StoredSampler {
    if ([...this.samplers.values()].some((r) => r.sampler.name === name)) {
      throw new Error(`UNIQUE constraint failed: samplers.name (${name})`);
    }
    const sampler = { id: this.nextSamplerId++, name, config, createdAt };
    this.samplers.set(sampler.id, {
      sampler,
      batches: new Map(),
      reports: [],
      reportKeys: new Set(),
      freezes: new Map(),
      epochStats: new Map(),
      epochStates: new Map(),
      snapshot: undefined,
    });
    return sampler;
  }

  deleteSampler(id: number): void {
    this.samplers.delete(id);
  }

  findBatch(samplerId: number, step: number): StoredBatch | undefined {
    const batch = this.records(samplerId).batches.get(step);
    return batch && { worldSize: batch.worldSize, indices: batch.indices.slice() };
  }

  insertBatches(writes: readonly BatchWrite[]): void {
    for (const { samplerId } of writes) this.records(samplerId); // all or none: fail before writing
    for (const { samplerId, batches, epochStats = [] } of writes) {
      const stored = this.records(samplerId).batches;
      for (const [step, batch] of batches) {
        if (!stored.has(step)) stored.set(step, { worldSize: batch.worldSize, indices: batch.indices.slice() });
      }
      for (const stats of epochStats) this.recordEpochStats(samplerId, stats);
    }
  }

  *batchesFrom(samplerId: number, fromStep: number): Iterable<{ step: number; indices: Uint32Array }> {
    const steps = [...this.records(samplerId).batches.keys()].filter((s) => s >= fromStep).sort((a, b) => a - b);
    for (const step of steps) yield { step, indices: this.records(samplerId).batches.get(step)!.indices.slice() };
  }

  storeEpochState(samplerId: number, epoch: number, state: StoredEpochState): void {
    const states = this.records(samplerId).epochStates;
    if (!states.has(epoch)) states.set(epoch, 'level' in state ? { level: state.level.slice() } : { weights: state.weights.slice() });
  }

  loadEpochState(samplerId: number, epoch: number): StoredEpochState | undefined {
    const state = this.records(samplerId).epochStates.get(epoch);
    return state && ('level' in state ? { level: state.level.slice() } : { weights: state.weights.slice() });
  }

  storedEpochStates(samplerId: number): number[] {
    return [...this.records(samplerId).epochStates.keys()].sort((a, b) => a - b);
  }

  recordEpochStats(samplerId: number, stats: EpochStats): void {
    this.records(samplerId).epochStats.set(stats.epoch, structuredClone(stats));
  }

  loadEpochStats(samplerId: number): EpochStats[] {
    return [...this.records(samplerId).epochStats.values()].sort((a, b) => a.epoch - b.epoch).map((s) => structuredClone(s));
  }

  highestBatchStep(samplerId: number): number {
    let highest = -1;
    for (const step of this.records(samplerId).batches.keys()) highest = Math.max(highest, step);
    return highest;
  }

  appendReports(reports: readonly { readonly samplerId: number; readonly report: ReportRecord }[]): (number | undefined)[] {
    for (const { samplerId } of reports) this.records(samplerId); // all or none: fail before writing
    return reports.map(({ samplerId, report }) => this.appendOne(samplerId, report));
  }

  private appendOne(samplerId: number, report: ReportRecord): number | undefined {
    const records = this.records(samplerId);
    const key = `${report.step}:${report.rank}`;
    if (records.reportKeys.has(key)) return undefined;
    records.reportKeys.add(key);
    const seq = this.nextSeq++;
    records.reports.push({ ...report, seq });
    return seq;
  }

  *reportsAfter(samplerId: number, afterSeq: number): Iterable<LoggedReport> {
    for (const report of this.records(samplerId).reports) if (report.seq > afterSeq) yield report;
  }

  recordFreeze(samplerId: number, point: FreezePoint): void {
    this.records(samplerId).freezes.set(point.epoch, point.seq);
  }

  loadFreezes(samplerId: number): FreezePoint[] {
    return [...this.records(samplerId).freezes]
      .map(([epoch, seq]) => ({ epoch, seq }))
      .sort((a, b) => a.seq - b.seq || a.epoch - b.epoch);
  }

  writeSnapshot(samplerId: number, snapshot: Snapshot): void {
    // The service hands over views of its live arrays: keep copies.
    this.records(samplerId).snapshot = {
      seq: snapshot.seq,
      meta: snapshot.meta,
      parts: new Map([...snapshot.parts].map(([name, data]) => [name, data.slice()])),
    };
  }

  loadSnapshot(samplerId: number): Snapshot | undefined {
    return this.records(samplerId).snapshot;
  }

  close(): void {}

  private records(samplerId: number): SamplerRecords {
    const records = this.samplers.get(samplerId);
    if (!records) throw new Error(`no sampler with id ${samplerId}`);
    return records;
  }
}

// The storage port: the small interface the service needs. Two implementations (SQLite and
// in-memory) pass one contract suite (test/unit/storage-contract.test.ts).
import type { SelectionDiagnostics } from '../core/diagnostics.js';
import type { SamplerConfig } from '../core/sampler-config.js';
import type { AppliedReport } from '../core/sampler-state.js';
import type { Snapshot } from '../core/snapshot.js';

export type { Snapshot };

export interface StoredSampler {
  readonly id: number;
  readonly name: string;
  readonly config: SamplerConfig;
  readonly createdAt: string;
}

/**
 * A global batch as first drawn, with the world size its shares were cut for. As stored, its
 * indices may be empty: the batch is then rebuilt from its epoch's distribution (held, or a
 * StoredEpochState), the seed and the step, which is how it was drawn.
 */
export interface StoredBatch {
  readonly worldSize: number;
  readonly indices: Uint32Array;
}

/** A checked report as the log keeps it: what the state applies (src/core/sampler-state.ts). */
export type ReportRecord = AppliedReport;

export interface LoggedReport extends ReportRecord {
  /** Position in the report log; increasing in arrival order. */
  readonly seq: number;
}

/** The epoch whose distribution was frozen when the log stood at `seq`. */
export interface FreezePoint {
  readonly epoch: number;
  readonly seq: number;
}

/** The state of the data set when an epoch's first batch was served (for the dashboard's history). */
export interface EpochStats {
  readonly epoch: number;
  readonly startedAt: string;
  /** Selection pressure of the epoch (see Batch.selection_pressure). */
  readonly pressure: number;
  readonly meanUncertainty: number;
  /** Samples without any reported prediction yet. */
  readonly neverSeen: number;
  /** Samples per tenth of F: [0, 0.1), [0.1, 0.2), ..., [0.9, 1]. */
  readonly histogram: readonly number[];
  /** Whether selection does anything this epoch (absent in epochs recorded by older releases). */
  readonly diagnostics?: SelectionDiagnostics;
}

/**
 * What an adaptive epoch's distribution is rebuilt from (src/core/strategy.ts FrozenState, less
 * what only serving needs): kept once the epoch is frozen, so that batch rows need not hold
 * their indices (see StoredBatch).
 */
export type StoredEpochState = { readonly level: Uint16Array } | { readonly weights: Float64Array };

/** New batches of one sampler (by step), and the statistics of the epochs they start. */
export interface BatchWrite {
  readonly samplerId: number;
  readonly batches: ReadonlyMap<number, StoredBatch>;
  readonly epochStats?: readonly EpochStats[] | undefined;
}

export interface Storage {
  loadSamplers(): StoredSampler[];
  insertSampler(name: string, config: SamplerConfig, createdAt: string): StoredSampler;
  /** Removes the sampler and everything recorded for it. */
  deleteSampler(id: number): void;

  findBatch(samplerId: number, step: number): StoredBatch | undefined;
  /**
   * Writes batches, and the statistics of the epochs they start, of one or more samplers in one
   * transaction, all or none; a step that already has a batch keeps it.
   */
  insertBatches(writes: readonly BatchWrite[]): void;
  /** The highest step with a stored batch, or -1. */
  highestBatchStep(samplerId: number): number;
  /** Stored batches with step >= fromStep, in step order. */
  batchesFrom(samplerId: number, fromStep: number): Iterable<{ readonly step: number; readonly indices: Uint32Array }>;

  recordEpochStats(samplerId: number, stats: EpochStats): void;
  loadEpochStats(samplerId: number): EpochStats[];

  /**
   * Durably appends reports in one transaction, all or none. For each, its log position, or
   * undefined when its (sampler, step, rank) was already reported (earlier or in this call).
   */
  appendReports(reports: readonly { readonly samplerId: number; readonly report: ReportRecord }[]): (number | undefined)[];
  /** Reports with seq > afterSeq, in seq order. */
  reportsAfter(samplerId: number, afterSeq: number): Iterable<LoggedReport>;

  /** Keeps an epoch's state (an epoch's state never changes: a second write is ignored). */
  storeEpochState(samplerId: number, epoch: number, state: StoredEpochState): void;
  loadEpochState(samplerId: number, epoch: number): StoredEpochState | undefined;
  /** The epochs whose state is kept, ascending. */
  storedEpochStates(samplerId: number): number[];

  recordFreeze(samplerId: number, point: FreezePoint): void;
  loadFreezes(samplerId: number): FreezePoint[];

  /** Replaces the sampler's snapshot. */
  writeSnapshot(samplerId: number, snapshot: Snapshot): void;
  loadSnapshot(samplerId: number): Snapshot | undefined;

  close(): void;
}

// One sampler's live state: its label windows, the frozen distributions of the epochs in use and
// a cache of recent global batches. Rebuilt on start-up from the snapshot plus the report log.
import { FrozenDistribution } from '../core/distribution.js';
import { failedPrecondition } from '../core/errors.js';
import { HistoryWindows } from '../core/history.js';
import { SampleActivity } from '../core/sample-activity.js';
import { SampleSignals } from '../core/sample-signals.js';
import { uncertaintySummary } from '../core/uncertainty-summary.js';
import { WeightedDistribution } from '../core/weighted-distribution.js';
import type { SamplerConfig } from '../core/sampler-config.js';
import { stepsPerEpoch, totalSteps } from '../core/schedule.js';
import {
  adaptiveBatch,
  distributionOf,
  epochOfStep,
  epochPlan,
  freezeState,
  lossWeights as weightsOf,
  permutationBatch,
  stateOf,
  type EpochDistribution,
  type EpochPlan,
  type FrozenState,
} from '../core/strategy.js';
import type {
  EpochStats,
  FreezePoint,
  RankReports,
  ReportRecord,
  Snapshot,
  Storage,
  StoredBatch,
  StoredSampler,
} from '../storage/storage.js';

/** Distributions kept in memory: the current epoch and the one before, for ranks lagging behind. */
const HELD_EPOCHS = 2;
const BATCH_CACHE_SIZE = 1024;

/*
 * A served batch is committed before any rank receives it: after a crash at any instant, every
 * step a client received is served again identically, with the same world size, its draws counted
 * once and its reports accepted. Drawing ahead (predraw) commits nothing: those batches are not
 * served yet, and are a pure function of (P, seed, step), so a crash changes none of them.
 */

export interface GlobalBatch extends StoredBatch {
  readonly epoch: number;
  readonly plan: EpochPlan;
  /** The plan's pressure, or the frozen distribution's where the strategy has no schedule. */
  readonly pressure: number;
  /** Per-index loss weights of the global batch (Active Bias, reweighting variant). */
  readonly lossWeights: Float32Array | undefined;
  /** Whether this call served the step for the first time. */
  readonly fresh: boolean;
}

export class SamplerRuntime {
  readonly history: HistoryWindows;
  readonly signals: SampleSignals;
  readonly activity: SampleActivity;
  /** Accepted reports per rank. */
  readonly rankReports = new Map<number, RankReports>();
  /** The data set at the start of each epoch served so far. */
  readonly epochStats = new Map<number, EpochStats>();
  /** When (ms since the epoch) a batch was last served or a report accepted, in this process's lifetime. */
  lastActivityMs: number | undefined;
  /** Log position of the last report applied to the history. */
  private lastSeq = 0;
  reportsReceived = 0;
  predictionsReceived = 0;
  private predictionsSinceSnapshot = 0;
  private readonly frozen = new Map<number, EpochDistribution>();
  private readonly batchCache = new Map<number, StoredBatch>();
  /** No batch beyond this step exists, in storage or in memory. */
  private highestDrawnStep: number;
  /** Batches drawn ahead of any request (see predraw); not served, so not yet a step's batch. */
  private readonly predrawn = new Map<number, Uint32Array>();
  /** The step most recently served (the run's position); -1 before any. */
  lastServedStep = -1;

  private constructor(
    readonly stored: StoredSampler,
    private readonly storage: Storage,
  ) {
    const c = stored.config;
    this.history = new HistoryWindows(c.datasetSize, c.window, c.numClasses);
    this.signals = new SampleSignals(c.datasetSize);
    this.activity = new SampleActivity(c.datasetSize);
    this.highestDrawnStep = storage.highestBatchStep(stored.id);
    this.lastServedStep = this.highestDrawnStep;
    for (const stats of storage.loadEpochStats(stored.id)) this.epochStats.set(stats.epoch, stats);
  }

  get config(): SamplerConfig {
    return this.stored.config;
  }

  static create(stored: StoredSampler, storage: Storage): SamplerRuntime {
    return new SamplerRuntime(stored, storage);
  }

  /** Rebuilds the state from the snapshot, the freeze points and the reports logged after it. */
  static recover(stored: StoredSampler, storage: Storage): SamplerRuntime {
    const runtime = new SamplerRuntime(stored, storage);
    const snapshot = storage.loadSnapshot(stored.id);
    if (snapshot) runtime.restoreSnapshot(snapshot);
    const restored = new Set(snapshot?.frozen.map((f) => f.epoch) ?? []);
    const pending: FreezePoint[] = storage
      .loadFreezes(stored.id)
      .filter((f) => f.seq >= runtime.lastSeq && !restored.has(f.epoch));
    let next = 0;
    for (const report of storage.reportsAfter(stored.id, runtime.lastSeq)) {
      for (; next < pending.length && (pending[next]?.seq ?? 0) < report.seq; next++) runtime.freeze(pending[next]!.epoch);
      runtime.apply(report.seq, report);
    }
    for (; next < pending.length; next++) runtime.freeze(pending[next]!.epoch);
    // Draws of batches written after the snapshot (counting skips the steps it already had).
    for (const { step, indices } of storage.batchesFrom(stored.id, runtime.activity.countedSteps.below)) {
      runtime.activity.countDraws(step, indices);
    }
    return runtime;
  }

  /**
   * Throws, changing nothing, unless every one of `steps` can be served to `worldSize` ranks: a
   * step served before keeps the split it was first served with, and a step that needs its epoch's
   * distribution needs that epoch to be held still (or to be new).
   */
  checkServable(steps: readonly number[], worldSize: number): void {
    for (const step of steps) {
      const served = this.servedBatch(step);
      if (served && served.worldSize !== worldSize) {
        throw failedPrecondition(
          'world_size',
          `step ${step} was split among ${served.worldSize} ranks when first served; got world_size ${worldSize}`,
        );
      }
      const { epoch } = epochOfStep(this.config, step);
      const plan = epochPlan(this.config, epoch);
      if (plan.lossWeights || (!served && plan.weightedDraws)) this.checkHeld(epoch);
    }
  }

  /**
   * The global batches of `steps` (ascending, checked by checkServable): as first served, or drawn
   * now. New batches and the statistics of epochs they start are committed in one transaction
   * before anything in memory changes or any batch is returned.
   */
  serve(steps: readonly number[], worldSize: number): GlobalBatch[] {
    const fresh = new Map<number, StoredBatch>();
    const batches = steps.map((step) => {
      const served = this.servedBatch(step);
      if (served) return served;
      // May freeze the step's epoch: its freeze point is committed before the batch.
      const batch = { worldSize, indices: this.predrawn.get(step) ?? this.draw(step) };
      fresh.set(step, batch);
      return batch;
    });
    const described = steps.map((step) => this.describe(step));
    const newEpochs = new Map<number, EpochStats>();
    for (const { epoch, pressure } of described) {
      if (!this.epochStats.has(epoch) && !newEpochs.has(epoch)) {
        newEpochs.set(epoch, { epoch, startedAt: new Date().toISOString(), pressure, ...uncertaintySummary(this.history) });
      }
    }
    if (fresh.size > 0 || newEpochs.size > 0) this.storage.insertBatches(this.stored.id, fresh, [...newEpochs.values()]);

    for (const [step, batch] of fresh) {
      this.predrawn.delete(step);
      this.remember(step, batch);
      this.activity.countDraws(step, batch.indices);
      this.highestDrawnStep = Math.max(this.highestDrawnStep, step);
    }
    for (const stats of newEpochs.values()) this.epochStats.set(stats.epoch, stats);
    this.lastServedStep = steps[steps.length - 1] ?? this.lastServedStep;
    this.lastActivityMs = Date.now();
    return batches.map((batch, i) => {
      const { epoch, plan, pressure, distribution } = described[i]!;
      const lossWeights = plan.lossWeights && distribution instanceof WeightedDistribution ? weightsOf(distribution.weights, batch.indices) : undefined;
      return { ...batch, epoch, plan, pressure, lossWeights, fresh: fresh.has(steps[i]!) };
    });
  }

  /** A step's epoch, plan and pressure; loss weights need the epoch's state (frozen now if new). */
  private describe(step: number) {
    const { epoch } = epochOfStep(this.config, step);
    const plan = epochPlan(this.config, epoch);
    // The pressure of a strategy without a schedule is known while its distribution is held.
    const distribution = plan.lossWeights ? this.distributionOf(epoch, plan) : this.frozen.get(epoch);
    return { epoch, plan, pressure: distribution?.pressure ?? plan.pressure, distribution };
  }

  /**
   * Draws the first missing one of the `ahead` steps after the last one served; false when none
   * is missing. Stays within the epoch (never
   * across a boundary: that would freeze the next epoch's P early). Batches are a pure function
   * of (P, seed, step), so drawing early changes no batch; it takes the draw off the request path.
   */
  predraw(ahead: number): boolean {
    if (this.compactOlderEpochs()) return true;
    const from = this.lastServedStep + 1;
    const { epoch } = epochOfStep(this.config, this.lastServedStep);
    const end = Math.min(from + ahead, (epoch + 1) * stepsPerEpoch(this.config), totalSteps(this.config));
    if (this.predrawn.size > 4 * ahead) this.predrawn.clear(); // the run moved elsewhere
    const plan = epochPlan(this.config, epoch);
    if (plan.freezes && !this.frozen.has(epoch)) return false;
    for (let step = from; step < end; step++) {
      if (this.predrawn.has(step) || this.servedBatch(step)) continue;
      this.predrawn.set(step, this.draw(step));
      return true; // one per call: the caller spreads the work over event-loop turns
    }
    return false;
  }

  /**
   * Older held epochs serve only lagging ranks: keeps them compact (2N bytes instead of 4N). An
   * O(N) pass, so it runs in idle time with the drawing ahead, not when an epoch starts.
   */
  private compactOlderEpochs(): boolean {
    const newest = Math.max(...this.frozen.keys());
    for (const [epoch, d] of this.frozen) {
      if (epoch !== newest && d instanceof FrozenDistribution && !d.isCompact) {
        d.compact();
        return true;
      }
    }
    return false;
  }

  private draw(step: number): Uint32Array {
    const { epoch, stepInEpoch } = epochOfStep(this.config, step);
    const plan = epochPlan(this.config, epoch);
    return plan.weightedDraws
      ? adaptiveBatch(this.config, step, this.distributionOf(epoch, plan))
      : permutationBatch(this.config, epoch, stepInEpoch);
  }

  /** The batch of `step` if any rank has been served it. */
  servedBatch(step: number): StoredBatch | undefined {
    let batch = this.batchCache.get(step);
    if (!batch && step <= this.highestDrawnStep) {
      batch = this.storage.findBatch(this.stored.id, step);
      if (batch) this.remember(step, batch);
    }
    return batch;
  }

  /** Applies a report that the log has just durably accepted at `seq`. */
  apply(seq: number, report: ReportRecord): void {
    const { indices } = report;
    this.history.record(indices, report.labels);
    this.signals.record(indices, report.losses, report.trueClassProbs);
    this.activity.recordReport(report.step, indices);
    const rank = this.rankReports.get(report.rank);
    this.rankReports.set(report.rank, {
      rank: report.rank,
      reports: (rank?.reports ?? 0) + 1,
      predictions: (rank?.predictions ?? 0) + indices.length,
      lastStep: Math.max(rank?.lastStep ?? -1, report.step),
    });
    this.lastActivityMs = Date.now();
    this.lastSeq = seq;
    this.predictionsSinceSnapshot += indices.length;
    this.reportsReceived += 1;
    this.predictionsReceived += indices.length;
  }

  /** Writes a snapshot when enough predictions arrived since the last one (or when forced). */
  maybeSnapshot(everyPredictions: number, force = false): boolean {
    if (this.predictionsSinceSnapshot === 0 || (!force && this.predictionsSinceSnapshot < everyPredictions)) return false;
    this.storage.writeSnapshot(this.stored.id, this.snapshot());
    this.predictionsSinceSnapshot = 0;
    return true;
  }

  /** The distribution of `epoch` if it is held (for inspection). */
  heldDistribution(epoch: number): EpochDistribution | undefined {
    return this.frozen.get(epoch);
  }

  private distributionOf(epoch: number, plan: EpochPlan): EpochDistribution {
    const held = this.frozen.get(epoch);
    if (held) return held;
    this.checkHeld(epoch);
    // Batches drawn ahead from an epoch about to be let go must not be served after it is gone.
    this.predrawn.clear();
    this.storage.recordFreeze(this.stored.id, { epoch, seq: this.lastSeq });
    return this.freeze(epoch, plan);
  }

  /** Throws unless `epoch`'s distribution is held or may still be frozen (it is not older than those held). */
  private checkHeld(epoch: number): void {
    if (this.frozen.has(epoch) || this.frozen.size < HELD_EPOCHS || epoch > Math.min(...this.frozen.keys())) return;
    throw failedPrecondition(
      'step',
      `epoch ${epoch}'s distribution is no longer held (epochs ${[...this.frozen.keys()].join(', ')} are); ` +
        `every step of an epoch must be requested before the epoch after next starts`,
    );
  }

  /** Freezes P for `epoch` from the per-sample state as it stands now, or from a snapshot's (spec section 6). */
  private freeze(epoch: number, plan: EpochPlan = epochPlan(this.config, epoch), state?: FrozenState): EpochDistribution {
    const frozenState = state ?? freezeState(this.config, plan, this.history, this.signals);
    const distribution = distributionOf(this.config, plan, frozenState, this.history.levels.uncertainty);
    this.frozen.set(epoch, distribution);
    while (this.frozen.size > HELD_EPOCHS) this.frozen.delete(Math.min(...this.frozen.keys()));
    return distribution;
  }

  private remember(step: number, batch: StoredBatch): void {
    this.batchCache.delete(step);
    this.batchCache.set(step, batch);
    if (this.batchCache.size > BATCH_CACHE_SIZE) {
      const oldest = this.batchCache.keys().next();
      if (!oldest.done) this.batchCache.delete(oldest.value);
    }
  }

  /** Views of the live arrays, valid until the next report: storage writes them out at once. */
  private snapshot(): Snapshot {
    const levels = this.history.levels;
    const labels = this.history.labels;
    return {
      seq: this.lastSeq,
      reportsReceived: this.reportsReceived,
      predictionsReceived: this.predictionsReceived,
      labels: new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength),
      valid: this.history.valid,
      level: this.history.level,
      levelKeys: Float64Array.from(levels.keys),
      levelUncertainty: Float64Array.from(levels.uncertainty),
      signals: this.signals,
      drawn: this.activity.drawn,
      lastReported: this.activity.lastReported,
      countedSteps: this.activity.countedSteps,
      rankReports: [...this.rankReports.values()],
      frozen: [...this.frozen].map(([epoch, distribution]) => ({ epoch, ...stateOf(distribution) })),
    };
  }

  private restoreSnapshot(s: Snapshot): void {
    const h = this.history;
    if (s.valid.length !== h.size || s.labels.byteLength !== h.labels.byteLength) {
      throw new Error(`snapshot of sampler ${this.stored.name} does not match its config`);
    }
    new Uint8Array(h.labels.buffer, h.labels.byteOffset, h.labels.byteLength).set(s.labels);
    h.valid.set(s.valid);
    h.level.set(s.level);
    this.activity.restore(s.drawn, s.lastReported, s.countedSteps);
    for (const r of s.rankReports) this.rankReports.set(r.rank, r);
    for (let id = 1; id < s.levelKeys.length; id++) h.levels.idOf(s.levelKeys[id] ?? 0, s.levelUncertainty[id] ?? 1);
    h.recountLevels();
    this.lastSeq = s.seq;
    this.reportsReceived = s.reportsReceived;
    this.predictionsReceived = s.predictionsReceived;
    const signals = this.signals;
    // Copies: a store may keep (and hand out again) the arrays it returns.
    signals.latestLoss = s.signals.latestLoss?.slice();
    signals.probCount = s.signals.probCount?.slice();
    signals.probMean = s.signals.probMean?.slice();
    signals.probM2 = s.signals.probM2?.slice();
    for (const f of s.frozen) this.freeze(f.epoch, epochPlan(this.config, f.epoch), f);
  }
}

// One sampler in the service: its learned state (src/core/sampler-state.ts) and the I/O around
// it: served batches (cached, read from and committed to storage), freeze points, snapshots and
// the epoch history. Rebuilt on start-up from the snapshot plus the report log.
import { meantToSelect, selectionDiagnostics } from '../core/diagnostics.js';
import { failedPrecondition } from '../core/errors.js';
import { refurbishedLabels } from '../core/label-suspicion.js';
import { SamplerState, type RankReports } from '../core/sampler-state.js';
import type { SamplerConfig } from '../core/sampler-config.js';
import { stepsPerEpoch, totalSteps } from '../core/schedule.js';
import {
  adaptiveBatch,
  distributionOf,
  epochOfStep,
  epochPlan,
  lossWeights as weightsOf,
  permutationBatch,
  stateOf,
  type EpochDistribution,
  type EpochPlan,
} from '../core/strategy.js';
import { Uint32Slab } from '../core/typed-slab.js';
import { uncertaintySummary } from '../core/uncertainty-summary.js';
import { WeightedDistribution } from '../core/weighted-distribution.js';
import type { BatchWrite, EpochStats, FreezePoint, ReportRecord, Storage, StoredBatch, StoredSampler } from '../storage/storage.js';

const BATCH_CACHE_SIZE = 1024;
/** What a batch row holds instead of its indices: the batch is rebuilt (see rebuild). */
const REBUILT = new Uint32Array(0);

/*
 * A served batch is committed before any rank receives it: after a crash at any instant, every
 * step a client received is served again identically, with the same world size, its draws counted
 * once and its reports accepted. Drawing ahead (predraw) commits nothing: those batches are not
 * served yet, and are a pure function of (P, seed, step), so a crash changes none of them.
 * Freezing ahead does commit its freeze point, as a first fetch would at the same seq.
 *
 * Being that pure function, a batch is committed as its step and world size alone (a row without
 * indices) and rebuilt when read back: from its epoch's P while held (recovered from the snapshot,
 * the log and the freeze points after a crash), else from the epoch's stored state. That state is
 * stored in quiet time once the epoch is served (storeState); an epoch let go before that is kept
 * in memory until it is, and at the latest until the next snapshot, which no longer holds it
 * (after a crash before that snapshot, recovery replays the epoch and stores it as it lets it go).
 * So no O(N) write lands in the freeze that the epoch boundary waits for.
 */

/** An epoch served in this process's lifetime: what it takes to know that all its reports are in. */
interface EpochProgress {
  /** Steps of the epoch first served in this process. */
  steps: number;
  /** Their shares (step x rank): the reports the epoch is complete with. */
  shares: number;
  /** Reports accepted for those steps, one per (step, rank) at most. */
  reported: number;
}

export interface GlobalBatch extends StoredBatch {
  readonly epoch: number;
  readonly plan: EpochPlan;
  /** The plan's pressure, or the frozen distribution's where the strategy has no schedule. */
  readonly pressure: number;
  /** Per-index loss weights of the global batch (Active Bias, reweighting variant). */
  readonly lossWeights: Float32Array | undefined;
  /** Per-index refurbished labels of the global batch, -1 for none (NOISY_LABELS_REFURBISH, adaptive epochs). */
  readonly refurbishedLabels: Int32Array | undefined;
  /** Whether this call served the step for the first time. */
  readonly fresh: boolean;
}

/** A call's batches, drawn and described, with what must be committed before they are answered. */
export interface PreparedServe {
  readonly steps: readonly number[];
  /** Steps this call serves for the first time. */
  readonly fresh: ReadonlyMap<number, StoredBatch>;
  /** Statistics of the epochs this call starts. */
  readonly epochStats: readonly EpochStats[];
  /** The rows to commit; undefined when every step was served before. */
  readonly write: BatchWrite | undefined;
  readonly batches: GlobalBatch[];
}

/** What the inspection views read of a sampler: nothing they could change. */
export interface InspectedSampler {
  readonly stored: StoredSampler;
  readonly config: SamplerConfig;
  readonly state: Pick<SamplerState, 'history' | 'signals' | 'activity' | 'reportsReceived' | 'predictionsReceived' | 'held'> & {
    readonly rankReports: ReadonlyMap<number, RankReports>;
  };
  readonly epochStats: ReadonlyMap<number, EpochStats>;
  readonly lastActivityMs: number | undefined;
  readonly lastServedStep: number;
}

export class SamplerRuntime implements InspectedSampler {
  /** The data set at the start of each epoch served so far. */
  readonly epochStats = new Map<number, EpochStats>();
  /** When (ms since the epoch) a batch was last served or a report accepted, in this process's lifetime. */
  lastActivityMs: number | undefined;
  private readonly batchCache = new Map<number, StoredBatch>();
  /** Where this sampler's batches are made (see typed-slab.ts): they leave the cache in that order. */
  private readonly slab = new Uint32Slab();
  /** No batch beyond this step exists in storage. */
  private highestDrawnStep: number;
  /** Batches drawn ahead of any request (see predraw); not served, so not yet a step's batch. */
  private readonly predrawn = new Map<number, Uint32Array>();
  /** The step most recently served (the run's position); -1 before any. */
  lastServedStep = -1;
  /** Epochs whose steps were first served in this process, until the next one is frozen. */
  private readonly progress = new Map<number, EpochProgress>();
  /** Batches, and epochs started, of prepared calls whose commit is pending (see prepare). */
  private readonly uncommitted = new Map<number, StoredBatch>();
  private readonly uncommittedEpochs = new Set<number>();
  /** Epochs whose state is stored (batches of theirs are rebuilt from it once it is let go). */
  private readonly statesStored: Set<number>;
  /** Epochs let go before their state was stored: kept until it is (see storeState). */
  private readonly letGoUnstored = new Map<number, EpochDistribution>();
  /** The distribution of an epoch no longer held, last rebuilt from its stored state. */
  private formerEpoch: { readonly epoch: number; readonly distribution: EpochDistribution } | undefined;

  private constructor(
    readonly stored: StoredSampler,
    private readonly storage: Storage,
    readonly state: SamplerState,
    private readonly now: () => Date,
  ) {
    this.highestDrawnStep = storage.highestBatchStep(stored.id);
    this.lastServedStep = this.highestDrawnStep;
    this.statesStored = new Set(storage.storedEpochStates(stored.id));
    for (const stats of storage.loadEpochStats(stored.id)) this.epochStats.set(stats.epoch, stats);
  }

  get config(): SamplerConfig {
    return this.stored.config;
  }

  static create(stored: StoredSampler, storage: Storage, now: () => Date = () => new Date()): SamplerRuntime {
    return new SamplerRuntime(stored, storage, new SamplerState(stored.config), now);
  }

  /** Rebuilds the state from the snapshot, the freeze points and the reports logged after it. */
  static recover(stored: StoredSampler, storage: Storage, now: () => Date = () => new Date()): SamplerRuntime {
    const snapshot = storage.loadSnapshot(stored.id);
    const state = snapshot ? SamplerState.restore(stored.config, snapshot) : new SamplerState(stored.config);
    const pending: FreezePoint[] = storage.loadFreezes(stored.id).filter((f) => f.seq >= state.lastSeq && !state.held(f.epoch));
    // An epoch the replay lets go may have been let go unstored before the crash: stored below
    // (not while the log is being read).
    const statesStored = new Set(storage.storedEpochStates(stored.id));
    const letGo = new Map<number, EpochDistribution>();
    const freeze = (epoch: number) => {
      const dropped = state.letGoByFreezing(epoch);
      if (dropped !== undefined && needsStoring(stored.config, dropped, statesStored)) letGo.set(dropped, state.held(dropped)!);
      state.freeze(epoch);
    };
    let next = 0;
    for (const report of storage.reportsAfter(stored.id, state.lastSeq)) {
      for (; next < pending.length && (pending[next]?.seq ?? 0) < report.seq; next++) freeze(pending[next]!.epoch);
      state.apply(report.seq, report);
    }
    for (; next < pending.length; next++) freeze(pending[next]!.epoch);
    for (const [epoch, distribution] of letGo) storeStateOf(storage, stored.id, epoch, distribution);
    const runtime = new SamplerRuntime(stored, storage, state, now);
    // Draws of batches written after the snapshot (counting skips the steps it already had).
    for (const { step, indices } of storage.batchesFrom(stored.id, state.activity.countedSteps.below)) {
      if (!state.activity.isCounted(step)) state.activity.countDraws(step, indices.length > 0 ? indices : runtime.rebuild(step));
    }
    runtime.formerEpoch = undefined;
    return runtime;
  }

  /**
   * Throws, changing nothing, unless every one of `steps` can be served to `worldSize` ranks: a
   * step served before keeps the split it was first served with, and a step that needs its epoch's
   * distribution needs that epoch to be held still (or to be new).
   */
  checkServable(steps: readonly number[], worldSize: number): void {
    for (const step of steps) {
      const served = this.knownBatch(step);
      if (served && served.worldSize !== worldSize) {
        throw failedPrecondition(
          'world_size',
          `step ${step} was split among ${served.worldSize} ranks when first served; got world_size ${worldSize}`,
        );
      }
      const { epoch } = epochOfStep(this.config, step);
      const plan = epochPlan(this.config, epoch);
      if (plan.lossWeights || this.refurbishes(plan) || (!served && plan.weightedDraws)) this.state.checkHeld(epoch);
    }
  }

  /**
   * The global batches of `steps` (ascending, checked by checkServable): as first served, or drawn
   * now. New batches and the statistics of epochs they start are committed in one transaction
   * before anything in memory changes or any batch is returned.
   */
  serve(steps: readonly number[], worldSize: number): GlobalBatch[] {
    const call = this.prepare(steps, worldSize);
    try {
      if (call.write) this.storage.insertBatches([call.write]);
      this.settle(call, true);
    } catch (error) {
      this.settle(call, false);
      throw error;
    }
    return call.batches;
  }

  /**
   * serve() without its commit: the batches of `steps`, with the rows a caller must commit
   * (`write`) before it answers and then settle(). Until settled, these batches are the steps'
   * batches for every later call (so calls committed together agree), but not for reports.
   */
  prepare(steps: readonly number[], worldSize: number): PreparedServe {
    const fresh = new Map<number, StoredBatch>();
    const batches = steps.map((step) => {
      const known = this.knownBatch(step);
      if (known) return known;
      // May freeze the step's epoch: its freeze point is committed before the batch.
      const batch = { worldSize, indices: this.predrawn.get(step) ?? this.draw(step) };
      fresh.set(step, batch);
      return batch;
    });
    const described = steps.map((step) => this.describe(step));
    const newEpochs = new Map<number, EpochStats>();
    for (const { epoch, plan, pressure } of described) {
      if (!this.epochStats.has(epoch) && !this.uncommittedEpochs.has(epoch) && !newEpochs.has(epoch)) {
        const { history } = this.state;
        const diagnostics = {
          ...selectionDiagnostics(plan.weightedDraws ? this.state.held(epoch) : undefined, history, meantToSelect(plan)),
          suspectedMislabeledShare: (this.state.suspicion?.suspected ?? 0) / this.config.datasetSize,
        };
        newEpochs.set(epoch, { epoch, startedAt: this.now().toISOString(), pressure, ...uncertaintySummary(history), diagnostics });
      }
    }
    for (const [step, batch] of fresh) this.uncommitted.set(step, batch);
    for (const epoch of newEpochs.keys()) this.uncommittedEpochs.add(epoch);
    const epochStats = [...newEpochs.values()];
    // Rows without indices: every batch is rebuilt from its epoch's P (see rebuild).
    const rows = new Map<number, StoredBatch>();
    for (const [step, { worldSize: size }] of fresh) rows.set(step, { worldSize: size, indices: REBUILT });
    return {
      steps,
      fresh,
      epochStats,
      write: fresh.size > 0 || epochStats.length > 0 ? { samplerId: this.stored.id, batches: rows, epochStats } : undefined,
      batches: batches.map((batch, i) => {
        const { epoch, plan, pressure, distribution } = described[i]!;
        const lossWeights = plan.lossWeights && distribution instanceof WeightedDistribution ? weightsOf(distribution.weights, batch.indices) : undefined;
        return { ...batch, epoch, plan, pressure, lossWeights, refurbishedLabels: this.refurbished(epoch, plan, batch.indices), fresh: fresh.has(steps[i]!) };
      }),
    };
  }

  /** After a prepared call's write: applies it to memory if it was committed, else drops it. */
  settle(call: PreparedServe, committed: boolean): void {
    for (const step of call.fresh.keys()) this.uncommitted.delete(step);
    for (const { epoch } of call.epochStats) this.uncommittedEpochs.delete(epoch);
    if (!committed) return;
    for (const [step, batch] of call.fresh) {
      const { epoch } = epochOfStep(this.config, step);
      const progress = this.progress.get(epoch) ?? this.track(epoch);
      progress.steps += 1;
      progress.shares += batch.worldSize;
      this.predrawn.delete(step);
      this.remember(step, batch);
      this.state.activity.countDraws(step, batch.indices);
      this.highestDrawnStep = Math.max(this.highestDrawnStep, step);
    }
    for (const stats of call.epochStats) this.epochStats.set(stats.epoch, stats);
    this.lastServedStep = call.steps[call.steps.length - 1] ?? this.lastServedStep;
    this.lastActivityMs = this.now().getTime();
  }

  /** A step's batch as served, or as prepared for a call whose commit is pending. */
  private knownBatch(step: number): StoredBatch | undefined {
    return this.servedBatch(step) ?? this.uncommitted.get(step);
  }

  /** Whether an epoch's batches carry refurbished labels: NOISY_LABELS_REFURBISH once P is frozen. */
  private refurbishes(plan: EpochPlan): boolean {
    return this.config.noisyLabels === 'REFURBISH' && plan.freezes;
  }

  private refurbished(epoch: number, plan: EpochPlan, indices: Uint32Array): Int32Array | undefined {
    if (!this.refurbishes(plan)) return undefined;
    const frozen = this.state.refurbishedAt(epoch);
    // No report carried dataset labels before the freeze (it cannot, with this option): nothing is suspected.
    return frozen ? refurbishedLabels(frozen, indices) : new Int32Array(indices.length).fill(-1);
  }

  /** A step's epoch, plan and pressure; loss weights need the epoch's state (frozen now if new). */
  private describe(step: number) {
    const { epoch } = epochOfStep(this.config, step);
    const plan = epochPlan(this.config, epoch);
    // The pressure of a strategy without a schedule is known while its distribution is held.
    const distribution = plan.lossWeights || this.refurbishes(plan) ? this.distributionOf(epoch, plan) : this.state.held(epoch);
    return { epoch, plan, pressure: distribution?.pressure ?? plan.pressure, distribution };
  }

  /**
   * One unit of idle-time work; false when there is none. First freezes the next epoch once every
   * report of this one is in (freezeAhead), then draws the first missing one of the `ahead` steps
   * after the last one served. Drawing never freezes: an epoch whose P is not held yet waits (its
   * first steps are drawn once freezeAhead or a fetch froze it). Batches are a pure function of
   * (P, seed, step), so drawing early changes no batch; it takes the draw off the request path.
   */
  predraw(ahead: number): boolean {
    if (this.freezeAhead()) return true;
    const from = this.lastServedStep + 1;
    const total = totalSteps(this.config);
    if (from >= total) return false;
    const { epoch } = epochOfStep(this.config, from);
    const end = Math.min(from + ahead, (epoch + 1) * stepsPerEpoch(this.config), total);
    if (this.predrawn.size > 4 * ahead) this.predrawn.clear(); // the run moved elsewhere
    const plan = epochPlan(this.config, epoch);
    if (plan.freezes && !this.state.held(epoch)) return false;
    for (let step = from; step < end; step++) {
      if (this.predrawn.has(step) || this.knownBatch(step)) continue;
      this.predrawn.set(step, this.draw(step));
      return true; // one per call: the caller spreads the work over event-loop turns
    }
    return false;
  }

  /**
   * One O(N) unit of quiet-time work once the newest held epoch has been served (not between an
   * epoch's last report and its successor's first fetch, which the trainer waits for): stores a
   * held epoch's state (see storeState), else compacts an older held epoch (see
   * SamplerState.compactOlderEpochs). False when there is nothing to do now.
   */
  compactIdle(): boolean {
    const newest = this.state.newestHeldEpoch;
    if (newest === undefined || this.lastServedStep < newest * stepsPerEpoch(this.config)) return false;
    for (const epoch of [...this.letGoUnstored.keys(), ...this.state.heldEpochs]) if (this.storeState(epoch)) return true;
    return this.state.compactOlderEpochs();
  }

  /**
   * Stores a held epoch's state unless it is stored or its batches are shuffles (rebuilt from the
   * seed alone); true when it wrote. Every epoch whose batch rows are written without indices is
   * stored before it is let go, so its batches can always be rebuilt.
   */
  private storeState(epoch: number): boolean {
    const distribution = this.state.held(epoch) ?? this.letGoUnstored.get(epoch);
    if (!distribution || !needsStoring(this.config, epoch, this.statesStored)) return false;
    storeStateOf(this.storage, this.stored.id, epoch, distribution);
    this.statesStored.add(epoch);
    this.letGoUnstored.delete(epoch);
    return true;
  }

  /** A step's batch from its epoch's P (held, or rebuilt from its stored state), as first drawn. */
  rebuild(step: number): Uint32Array {
    const { epoch, stepInEpoch } = epochOfStep(this.config, step);
    const plan = epochPlan(this.config, epoch);
    if (!plan.weightedDraws) return permutationBatch(this.config, epoch, stepInEpoch, this.slab.take);
    return adaptiveBatch(this.config, step, this.state.held(epoch) ?? this.letGoUnstored.get(epoch) ?? this.formerDistribution(epoch, plan), this.slab.take);
  }

  private formerDistribution(epoch: number, plan: EpochPlan): EpochDistribution {
    if (this.formerEpoch?.epoch === epoch) return this.formerEpoch.distribution;
    const state = this.storage.loadEpochState(this.stored.id, epoch);
    if (!state) throw new Error(`epoch ${epoch}'s distribution is neither held nor stored: its batches cannot be rebuilt`);
    const distribution = distributionOf(this.config, plan, state, this.state.history.levels.uncertainty);
    this.formerEpoch = { epoch, distribution };
    return distribution;
  }

  private draw(step: number): Uint32Array {
    const { epoch, stepInEpoch } = epochOfStep(this.config, step);
    const plan = epochPlan(this.config, epoch);
    return plan.weightedDraws
      ? adaptiveBatch(this.config, step, this.distributionOf(epoch, plan), this.slab.take)
      : permutationBatch(this.config, epoch, stepInEpoch, this.slab.take);
  }

  /** The batch of `step` if any rank has been served it. */
  servedBatch(step: number): StoredBatch | undefined {
    let batch = this.batchCache.get(step);
    if (!batch && step <= this.highestDrawnStep) {
      batch = this.storage.findBatch(this.stored.id, step);
      if (batch && batch.indices.length === 0) batch = { worldSize: batch.worldSize, indices: this.rebuild(step) };
      if (batch) this.remember(step, batch);
    }
    return batch;
  }

  /** Applies a report that the log has just durably accepted at `seq` (one per step and rank). */
  apply(seq: number, report: ReportRecord): void {
    this.state.apply(seq, report);
    const progress = this.progress.get(epochOfStep(this.config, report.step).epoch);
    if (progress) progress.reported += 1;
    this.lastActivityMs = this.now().getTime();
  }

  /**
   * The epoch to freeze now, if any: the one after an epoch whose every step was first served in
   * this process and whose every share has been reported. Its P can no longer change before its
   * first fetch, which would freeze it at the same seq: freezing it in idle time takes the O(N)
   * work off the epoch boundary the trainer waits at. Undefined when no epoch is complete (a
   * restart in the epoch, a rank that does not report every step): the first fetch freezes then.
   */
  get epochToFreeze(): number | undefined {
    for (const [epoch, { steps, shares, reported }] of this.progress) {
      const next = epoch + 1;
      const inEpoch = Math.min(stepsPerEpoch(this.config), totalSteps(this.config) - epoch * stepsPerEpoch(this.config));
      if (steps < inEpoch || reported < shares || next >= this.config.epochs || this.state.held(next)) continue;
      if (this.needsDistribution(epochPlan(this.config, next))) return next;
    }
    return undefined;
  }

  /** Freezes epochToFreeze (its freeze point committed first, as a fetch would); false if none. */
  freezeAhead(): boolean {
    const epoch = this.epochToFreeze;
    if (epoch === undefined) return false;
    this.progress.delete(epoch - 1);
    this.distributionOf(epoch, epochPlan(this.config, epoch));
    return true;
  }

  /** Whether serving an epoch's steps freezes its P (see draw and describe). */
  private needsDistribution(plan: EpochPlan): boolean {
    return plan.weightedDraws || plan.lossWeights || this.refurbishes(plan);
  }

  /** Starts counting an epoch; epochs more than two behind it are dropped (they never completed). */
  private track(epoch: number): EpochProgress {
    for (const old of this.progress.keys()) if (old < epoch - 2) this.progress.delete(old);
    const progress = { steps: 0, shares: 0, reported: 0 };
    this.progress.set(epoch, progress);
    return progress;
  }

  /** Writes a snapshot when enough predictions arrived since the last one (or when forced). */
  maybeSnapshot(everyPredictions: number, force = false): boolean {
    const since = this.state.predictionsSinceSnapshot;
    if (since === 0 || (!force && since < everyPredictions)) return false;
    // The snapshot no longer holds the epochs let go: a restart from it could not replay them.
    for (const epoch of [...this.letGoUnstored.keys()]) this.storeState(epoch);
    this.storage.writeSnapshot(this.stored.id, this.state.snapshot());
    this.state.predictionsSinceSnapshot = 0;
    return true;
  }

  /** The held distribution of `epoch`, freezing it now (a committed freeze point first) if it is new. */
  private distributionOf(epoch: number, plan: EpochPlan): EpochDistribution {
    const held = this.state.held(epoch);
    if (held) return held;
    this.state.checkHeld(epoch);
    // Batches drawn ahead from an epoch about to be let go must not be served after it is gone.
    this.predrawn.clear();
    const letGo = this.state.letGoByFreezing(epoch);
    this.storage.recordFreeze(this.stored.id, { epoch, seq: this.state.lastSeq });
    // An epoch let go unstored is kept until quiet time or the next snapshot stores it.
    if (letGo !== undefined && needsStoring(this.config, letGo, this.statesStored)) this.letGoUnstored.set(letGo, this.state.held(letGo)!);
    return this.state.freeze(epoch, plan);
  }

  private remember(step: number, batch: StoredBatch): void {
    this.batchCache.delete(step);
    this.batchCache.set(step, batch);
    if (this.batchCache.size > BATCH_CACHE_SIZE) {
      const oldest = this.batchCache.keys().next();
      if (!oldest.done) this.batchCache.delete(oldest.value);
    }
  }
}

/** Whether an epoch's batches need its state stored to be rebuilt once it is let go (shuffles do not). */
function needsStoring(config: SamplerConfig, epoch: number, stored: ReadonlySet<number>): boolean {
  return !stored.has(epoch) && epochPlan(config, epoch).weightedDraws;
}

function storeStateOf(storage: Storage, samplerId: number, epoch: number, distribution: EpochDistribution): void {
  const state = stateOf(distribution);
  storage.storeEpochState(samplerId, epoch, 'level' in state ? { level: state.level } : { weights: state.weights });
}

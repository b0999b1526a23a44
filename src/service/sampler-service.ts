// The service: owns every sampler's state and is its only writer. The gRPC and HTTP adapters
// decode a request, make one call here and encode the answer.
import type { Logger } from 'pino';
import type { SelectionDiagnostics } from '../core/diagnostics.js';
import { failedPrecondition, invalidArgument, SamplerError } from '../core/errors.js';
import {
  checkName,
  checkRank,
  checkReport,
  checkStep,
  checkStrategyFields,
  checkWithinShare,
  checkWorldSize,
  type ReportFields,
} from '../core/requests.js';
import { configsEqual, normalizeConfig, snakeCase, uniformThroughout, type SamplerConfig, type SamplerConfigInput } from '../core/sampler-config.js';
import { stepsPerEpoch, totalSteps } from '../core/schedule.js';
import { shareBounds, shareOf } from '../core/shares.js';
import { epochOfStep, type Phase } from '../core/strategy.js';
import type { ReportRecord, Storage } from '../storage/storage.js';
import { samplerSummary } from './sampler-inspection.js';
import { SamplerRuntime, type GlobalBatch, type InspectedSampler, type PreparedServe } from './sampler-runtime.js';

const MAX_STEPS_PER_CALL = 64;
const MAX_REPORTS_PER_CALL = 256;
/** Steps drawn ahead of the last one served, in idle time. */
const PREDRAW_STEPS = 8;
/**
 * O(N) idle work (a snapshot, a compaction) waits until no call was answered for this long (ms).
 * grpc-js writes an answer's message and then its trailers over several event-loop turns, and a
 * call completes only with its trailers: such work queued with setImmediate after an answer held
 * the answer back by its whole duration (scripts/bench/idle-after-answer.ts; here, a compaction
 * on an epoch's first chunk and a snapshot on its second).
 */
const QUIET_MS = 1;
/**
 * Under calls answered more often than QUIET_MS, O(N) idle work runs anyway after this many times
 * QUIET_MS (50 ms by default): a snapshot must not wait for its inline fallback inside a report
 * call, nor the older epoch stay uncompacted, on a busy service (many per-rank clients).
 */
const QUIET_PATIENCE = 50;
/**
 * Event-loop turns after an answer by which grpc-js has written it out, trailers included
 * (scripts/bench/idle-after-answer.ts: work queued 1 or 2 turns later still delayed the answer,
 * 3 turns later not). A freeze ahead, O(N) but wanted before the next fetch arrives, waits this
 * many turns instead of QUIET_MS.
 */
const ANSWER_TURNS = 3;

export interface ServiceOptions {
  /** Snapshot a sampler once this many predictions arrived since its last snapshot (default: max(N, 65536)). */
  readonly snapshotEveryPredictions?: number;
  /** Clock for created_at; injectable so tests are deterministic. */
  readonly now?: () => Date;
  /** Told of accepted reports and of batches served for the first time (metrics). */
  readonly events?: ServiceEvents;
  /** O(N) idle work waits until no call was answered for this long (default QUIET_MS). */
  readonly quietMs?: number;
}

export interface ServiceEvents {
  reports(sampler: string, reports: number, predictions: number): void;
  batchServed(sampler: string): void;
}

/** What the metrics endpoint reads per sampler at each scrape. */
export interface GaugeValues {
  readonly name: string;
  readonly epoch: number;
  readonly selectionPressure: number | null;
  readonly meanUncertainty: number;
  readonly neverSeen: number;
  /** The current epoch's, once it has started. */
  readonly diagnostics: SelectionDiagnostics | undefined;
}

export interface SamplerView {
  readonly name: string;
  readonly config: SamplerConfig;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly createdAt: string;
  readonly reportsReceived: number;
  readonly predictionsReceived: number;
  /** Each epoch served so far, in order, with its diagnostics (absent for epochs recorded by older releases). */
  readonly epochs: readonly { readonly epoch: number; readonly pressure: number; readonly diagnostics: SelectionDiagnostics | undefined }[];
}

export interface BatchView {
  readonly indices: Uint32Array;
  readonly step: number;
  readonly epoch: number;
  readonly selectionPressure: number;
  readonly phase: Phase;
  readonly globalBatchSize: number;
  /** This share's loss weights (Active Bias, reweighting variant), else undefined. */
  readonly lossWeights: Float32Array | undefined;
  /** This share's refurbished labels, -1 for none (NOISY_LABELS_REFURBISH, adaptive epochs), else undefined. */
  readonly refurbishedLabels: Int32Array | undefined;
}

export interface NextBatchRequest {
  readonly sampler?: string | undefined;
  readonly step?: number | undefined;
  readonly rank?: number | undefined;
  readonly worldSize?: number | undefined;
}

export interface ReportRequest extends ReportFields {
  readonly sampler?: string | undefined;
  readonly step?: number | undefined;
  readonly rank?: number | undefined;
  readonly worldSize?: number | undefined;
}

export interface ReportResult {
  readonly accepted: number;
  readonly duplicate: boolean;
}

/** A checked NextBatch(es) call. */
interface ServeCall {
  readonly runtime: SamplerRuntime;
  readonly steps: readonly number[];
  readonly rank: number;
  readonly worldSize: number;
}

interface GroupedCall {
  readonly runtime: SamplerRuntime;
  readonly prepared: PreparedServe;
  /** Undefined once the batches are committed, else the commit's error. */
  readonly answer: (error: unknown) => void;
}

export class SamplerService {
  private readonly samplers = new Map<string, SamplerRuntime>();
  private readonly now: () => Date;
  private closed = false;
  private readonly predrawScheduled = new Set<SamplerRuntime>();
  private readonly compactionScheduled = new Set<SamplerRuntime>();
  /** When (performance.now()) a call was last answered: O(N) idle work waits for quiet (whenQuiet). */
  private answeredAt = Number.NEGATIVE_INFINITY;
  /** Event-loop turns since a call was last answered, counted up to ANSWER_TURNS. */
  private turnsSinceAnswer = ANSWER_TURNS;
  /** Samplers whose snapshot is due, to be written once their next batches are served. */
  private readonly snapshotDue = new Set<SamplerRuntime>();
  /** Calls of this event-loop turn waiting for their shared commit (see serveGrouped). */
  private readonly grouped: GroupedCall[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly options: ServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    for (const stored of storage.loadSamplers()) {
      const started = performance.now();
      this.samplers.set(stored.name, SamplerRuntime.recover(stored, storage, this.now));
      log.info({ sampler: stored.name, ms: Math.round(performance.now() - started) }, 'sampler recovered');
    }
  }

  create(name: string | undefined, input: SamplerConfigInput | undefined): SamplerView {
    const checkedName = checkName('name', name);
    const config = normalizeConfig(input);
    const existing = this.samplers.get(checkedName);
    if (existing) {
      if (configsEqual(existing.config, config)) return view(existing);
      throw new SamplerError(
        'already_exists',
        `name: sampler ${checkedName} exists with a different config (${describeDifference(existing.config, config)})`,
      );
    }
    const stored = this.storage.insertSampler(checkedName, config, this.now().toISOString());
    let runtime: SamplerRuntime;
    try {
      runtime = SamplerRuntime.create(stored, this.storage, this.now);
    } catch (error) {
      // Never leave a row the service cannot load: the next start would fail on it.
      this.storage.deleteSampler(stored.id);
      throw error;
    }
    this.samplers.set(checkedName, runtime);
    this.log.info({ sampler: checkedName, config }, 'sampler created');
    const uniform = uniformThroughout(config);
    if (uniform) this.log.warn({ sampler: checkedName }, `sampler ${checkedName} will not select: ${uniform}`);
    return view(runtime);
  }

  get(name: string | undefined): SamplerView {
    return view(this.runtime('name', name));
  }

  list(): SamplerView[] {
    return [...this.samplers.values()].map(view);
  }

  /** A sampler's state, read-only, for the views of src/service/sampler-inspection.ts. */
  inspect(name: string | undefined): InspectedSampler {
    return this.runtime('name', name);
  }

  gaugeValues(): GaugeValues[] {
    return [...this.samplers.values()].map((runtime) => {
      const detail = samplerSummary(runtime);
      return {
        name: runtime.stored.name,
        epoch: detail.epoch,
        selectionPressure: detail.selectionPressure,
        meanUncertainty: detail.meanUncertainty,
        neverSeen: detail.neverSeen,
        diagnostics: runtime.epochStats.get(detail.epoch)?.diagnostics,
      };
    });
  }

  delete(name: string | undefined): void {
    const runtime = this.runtime('name', name);
    this.commitGrouped();
    this.storage.deleteSampler(runtime.stored.id);
    this.samplers.delete(runtime.stored.name);
    this.snapshotDue.delete(runtime);
    this.log.info({ sampler: runtime.stored.name }, 'sampler deleted');
  }

  nextBatch(request: NextBatchRequest): BatchView {
    return this.serve(request, 1)[0]!;
  }

  /** Consecutive steps for one rank: [step, step + count). */
  nextBatches(request: NextBatchRequest & { readonly count?: number | undefined }): BatchView[] {
    return this.serve(request, checkCount(request.count));
  }

  /**
   * nextBatch for a server, answered once committed: the new batches of every call made in one
   * event-loop turn are committed in one transaction after it (see serveGrouped).
   */
  nextBatchGrouped(request: NextBatchRequest): Promise<BatchView> {
    return this.serveGrouped(request, 1).then((batches) => batches[0]!);
  }

  /** nextBatches for a server, answered once committed (see serveGrouped). */
  nextBatchesGrouped(request: NextBatchRequest & { readonly count?: number | undefined }): Promise<BatchView[]> {
    return this.serveGrouped(request, checkCount(request.count));
  }

  /** Checks every step before any is served: a rejected call changes nothing, in memory or on disk. */
  private serve(request: NextBatchRequest, count: number): BatchView[] {
    this.commitGrouped();
    const call = this.checkServe(request, count);
    const batches = call.runtime.serve(call.steps, call.worldSize);
    this.served(call.runtime, call.steps, batches);
    this.answered();
    return views(batches, call);
  }

  /**
   * serve() with its commit shared: a call's batches are drawn now and committed after this
   * event-loop turn, in one transaction with those of the other calls that arrived in it (under
   * concurrent calls the commit costs more than drawing); each call is answered once it is done,
   * all failing together if it fails. A rejected call throws at once, changing nothing.
   */
  private serveGrouped(request: NextBatchRequest, count: number): Promise<BatchView[]> {
    const call = this.checkServe(request, count);
    const prepared = call.runtime.prepare(call.steps, call.worldSize);
    return new Promise((resolve, reject) => {
      this.grouped.push({ runtime: call.runtime, prepared, answer: (error) => (error === undefined ? resolve(views(prepared.batches, call)) : reject(error)) });
      if (this.grouped.length === 1) setImmediate(() => this.commitGrouped());
    });
  }

  /**
   * Commits the calls grouped so far and answers them (true if there were any). Run first by every
   * other call and by idle work, so each sees (and the state holds) only committed batches.
   */
  private commitGrouped(): boolean {
    if (this.grouped.length === 0) return false;
    const calls = this.grouped.splice(0);
    const writes = calls.flatMap(({ prepared }) => (prepared.write ? [prepared.write] : []));
    try {
      if (writes.length > 0) this.storage.insertBatches(writes);
    } catch (error) {
      for (const { runtime, prepared } of calls) runtime.settle(prepared, false);
      for (const { answer } of calls) answer(error);
      return true;
    }
    for (const { runtime, prepared } of calls) {
      // Runs from setImmediate: a throw here would take the process down, and the batches are
      // committed, so the calls are answered whatever happens after.
      try {
        runtime.settle(prepared, true);
        this.served(runtime, prepared.steps, prepared.batches);
      } catch (error) {
        this.log.error({ err: error, sampler: runtime.stored.name }, 'applying committed batches failed');
      }
    }
    for (const { answer } of calls) answer(undefined);
    this.answered();
    return true;
  }

  private checkServe(request: NextBatchRequest, count: number): ServeCall {
    const runtime = this.runtime('sampler', request.sampler);
    const config = runtime.config;
    const first = checkStep(config, request.step);
    const total = totalSteps(config);
    if (first + count > total) {
      throw invalidArgument('count', `steps ${first} .. ${first + count - 1} run past the last step (total_steps = ${total})`);
    }
    const worldSize = checkWorldSize(config, request.worldSize);
    const rank = checkRank(request.rank, worldSize);
    const steps = Array.from({ length: count }, (_, i) => first + i);
    runtime.checkServable(steps, worldSize);
    return { runtime, steps, rank, worldSize };
  }

  /** After batches are committed and applied: metrics, then idle work. */
  private served(runtime: SamplerRuntime, steps: readonly number[], batches: readonly GlobalBatch[]): void {
    for (const batch of batches) if (batch.fresh) this.options.events?.batchServed(runtime.stored.name);
    this.schedulePredraw(runtime);
    // Not after an epoch's first batches: the trainer waits for those (and the client's next
    // fetches follow at once); after later ones it has steps in hand.
    if (!steps.some((step) => epochOfStep(runtime.config, step).stepInEpoch === 0)) this.scheduleSnapshot(runtime);
  }

  /** Validates, appends durably to the log, then updates the windows; a rejected call changes nothing. */
  report(request: ReportRequest): ReportResult {
    return this.reportMany([request], '')[0]!;
  }

  /**
   * Several reports, all recorded or none: every one is validated before any is written, and all
   * are appended in one transaction. Error fields are prefixed with `reports[i].`.
   */
  reportMany(requests: readonly ReportRequest[], prefix = 'reports'): ReportResult[] {
    this.commitGrouped();
    if (requests.length === 0 || requests.length > MAX_REPORTS_PER_CALL) {
      throw invalidArgument(prefix, `must hold 1 to ${MAX_REPORTS_PER_CALL} reports, got ${requests.length}`);
    }
    const checked = requests.map((request, i) => {
      try {
        return this.checkReportRequest(request);
      } catch (error) {
        if (error instanceof SamplerError && prefix) throw new SamplerError(error.kind, `${prefix}[${i}].${error.message}`);
        throw error;
      }
    });
    const seqs = this.storage.appendReports(checked.map((c) => ({ samplerId: c.runtime.stored.id, report: c.record })));
    const touched = new Set<SamplerRuntime>();
    const results = checked.map(({ runtime, record }, i) => {
      const seq = seqs[i];
      if (seq === undefined) return { accepted: 0, duplicate: true };
      runtime.apply(seq, record);
      this.options.events?.reports(runtime.stored.name, 1, record.indices.length);
      touched.add(runtime);
      return { accepted: record.indices.length, duplicate: false };
    });
    for (const runtime of touched) {
      // The epoch's last report: its successor's P is frozen in idle time, before the trainer asks
      // for it, once this call's answer is written out (see schedulePredraw).
      if (runtime.epochToFreeze !== undefined) this.schedulePredraw(runtime);
      // A snapshot falls due at the same point of every epoch (N predictions are an epoch's), the
      // last report often, whose call the epoch boundary waits for: it is written after a later
      // fetch instead (scheduleSnapshot), while the trainer trains on what it fetched. Reports
      // that no fetch follows still get one, inline, at twice the interval.
      const every = this.snapshotInterval(runtime);
      const since = runtime.state.predictionsSinceSnapshot;
      if (since >= 2 * every) {
        this.snapshotDue.delete(runtime);
        this.timed(runtime, () => runtime.maybeSnapshot(every));
      } else if (since >= every) {
        this.snapshotDue.add(runtime);
      }
    }
    this.answered();
    return results;
  }

  private checkReportRequest(request: ReportRequest): { runtime: SamplerRuntime; record: ReportRecord } {
    const runtime = this.runtime('sampler', request.sampler);
    const config = runtime.config;
    const step = checkStep(config, request.step);
    const served = runtime.servedBatch(step);
    if (!served) throw failedPrecondition('step', `step ${step} has not been served yet; report the steps NextBatch returned`);
    const { worldSize } = served;
    if (request.worldSize && request.worldSize !== worldSize) {
      throw failedPrecondition('world_size', `step ${step} was split among ${worldSize} ranks, got world_size ${request.worldSize}`);
    }
    const rank = checkRank(request.rank, worldSize);
    const share = shareOf(served.indices, rank, worldSize);
    // Before any per-element work: an oversized report costs one comparison.
    const length = request.indices?.length ?? 0;
    if (length > share.length) {
      throw invalidArgument('indices', `must hold at most the ${share.length} indices of rank ${rank}'s share of step ${step}, got ${length}`);
    }
    const report = checkReport(config, request);
    checkStrategyFields(config, report);
    checkWithinShare(report.indices, share, step, rank);
    return { runtime, record: { step, rank, ...report } };
  }

  /** At shutdown: snapshot every sampler that learned something. */
  close(): void {
    this.commitGrouped();
    for (const runtime of this.samplers.values()) this.timed(runtime, () => runtime.maybeSnapshot(0, true));
    this.closed = true;
  }

  private schedulePredraw(runtime: SamplerRuntime): void {
    if (this.predrawScheduled.has(runtime)) return;
    this.predrawScheduled.add(runtime);
    // After this turn's I/O: the answer is on its way before the next batches are drawn.
    // One unit a turn, so requests arriving meanwhile wait for one draw at most, or for a freeze
    // ahead, which waits until the answers just made are written out. Background work must
    // never throw out of a callback: that would take the process down.
    setImmediate(() => {
      this.predrawScheduled.delete(runtime);
      // Calls committed here are answered in this callback's microtasks, after it returns: a draw
      // now would hold their answers back, so it waits a turn.
      const answering = this.commitGrouped();
      if (this.closed || this.samplers.get(runtime.stored.name) !== runtime) return;
      if (answering || (this.turnsSinceAnswer < ANSWER_TURNS && runtime.epochToFreeze !== undefined)) {
        this.schedulePredraw(runtime);
        return;
      }
      try {
        if (runtime.predraw(PREDRAW_STEPS)) this.schedulePredraw(runtime);
        else this.scheduleCompaction(runtime);
      } catch (error) {
        this.log.error({ err: error, sampler: runtime.stored.name }, 'drawing ahead failed');
      }
    });
  }

  /** Notes an answer: O(N) idle work waits until it is written out (turns) or for quiet (time). */
  private answered(): void {
    this.answeredAt = performance.now();
    const counting = this.turnsSinceAnswer < ANSWER_TURNS;
    this.turnsSinceAnswer = 0;
    if (!counting) this.countTurns();
  }

  private countTurns(): void {
    setImmediate(() => {
      this.turnsSinceAnswer += 1;
      if (this.turnsSinceAnswer < ANSWER_TURNS) this.countTurns();
    });
  }

  /** Stores held epochs' states and compacts older ones in quiet time, one O(N) pass at a time (see compactIdle). */
  private scheduleCompaction(runtime: SamplerRuntime): void {
    if (this.compactionScheduled.has(runtime)) return;
    this.compactionScheduled.add(runtime);
    this.whenQuiet(() => {
      this.compactionScheduled.delete(runtime);
      if (this.closed || this.samplers.get(runtime.stored.name) !== runtime) return;
      try {
        if (runtime.compactIdle()) this.scheduleCompaction(runtime);
      } catch (error) {
        this.log.error({ err: error, sampler: runtime.stored.name }, 'storing or compacting a held epoch failed');
      }
    });
  }

  /**
   * Runs O(N) idle work once no call has been answered for QUIET_MS (the answers, trailers
   * included, are out), or after QUIET_PATIENCE times that under constant calls; after
   * committing the grouped calls, so that it sees only committed batches.
   */
  private whenQuiet(work: () => void, since = performance.now()): void {
    const quiet = this.options.quietMs ?? QUIET_MS;
    setTimeout(() => {
      this.commitGrouped();
      const now = performance.now();
      if (now - this.answeredAt < quiet && now - since < QUIET_PATIENCE * quiet) this.whenQuiet(work, since);
      else work();
    }, quiet);
  }

  private snapshotInterval(runtime: SamplerRuntime): number {
    return this.options.snapshotEveryPredictions ?? Math.max(runtime.config.datasetSize, 65536);
  }

  /** Writes a due snapshot in quiet time: the batches just served are out first. */
  private scheduleSnapshot(runtime: SamplerRuntime): void {
    if (!this.snapshotDue.delete(runtime)) return;
    this.whenQuiet(() => {
      if (this.closed || this.samplers.get(runtime.stored.name) !== runtime) return;
      this.timed(runtime, () => runtime.maybeSnapshot(this.snapshotInterval(runtime)));
    });
  }

  /** Snapshots are an optimisation (the log holds every report): a failed one is logged, and the call stands. */
  private timed(runtime: SamplerRuntime, write: () => boolean): void {
    const started = performance.now();
    try {
      if (write()) {
        this.log.debug({ sampler: runtime.stored.name, ms: +(performance.now() - started).toFixed(2) }, 'snapshot written');
      }
    } catch (error) {
      this.log.error({ err: error, sampler: runtime.stored.name }, 'writing a snapshot failed; recovery replays more of the log');
    }
  }


  private runtime(field: string, name: string | undefined): SamplerRuntime {
    const runtime = this.samplers.get(checkName(field, name));
    if (!runtime) throw new SamplerError('not_found', `${field}: no sampler named ${JSON.stringify(name)}`);
    return runtime;
  }
}

function checkCount(count: number | undefined): number {
  const value = count ?? 0;
  if (!Number.isInteger(value) || value < 1 || value > MAX_STEPS_PER_CALL) {
    throw invalidArgument('count', `must be in [1, ${MAX_STEPS_PER_CALL}], got ${value}`);
  }
  return value;
}

/** Each global batch as the rank's share, with what the rank needs of it. */
function views(batches: readonly GlobalBatch[], { steps, rank, worldSize }: ServeCall): BatchView[] {
  return batches.map((batch, i) => {
    const bounds = shareBounds(batch.indices.length, rank, worldSize);
    return {
      indices: shareOf(batch.indices, rank, worldSize),
      step: steps[i]!,
      epoch: batch.epoch,
      selectionPressure: batch.pressure,
      phase: batch.plan.phase,
      globalBatchSize: batch.indices.length,
      lossWeights: batch.lossWeights?.subarray(...bounds),
      refurbishedLabels: batch.refurbishedLabels?.subarray(...bounds),
    };
  });
}

function view(runtime: SamplerRuntime): SamplerView {
  const { name, config, createdAt } = runtime.stored;
  return {
    name,
    config,
    stepsPerEpoch: stepsPerEpoch(config),
    totalSteps: totalSteps(config),
    createdAt,
    reportsReceived: runtime.state.reportsReceived,
    predictionsReceived: runtime.state.predictionsReceived,
    epochs: [...runtime.epochStats.values()]
      .sort((a, b) => a.epoch - b.epoch)
      .map(({ epoch, pressure, diagnostics }) => ({ epoch, pressure, diagnostics })),
  };
}

function describeDifference(a: SamplerConfig, b: SamplerConfig): string {
  return (Object.keys(a) as (keyof SamplerConfig)[])
    .filter((key) => a[key] !== b[key])
    .map((key) => `${snakeCase(key)}: ${String(a[key])} != ${String(b[key])}`)
    .join(', ');
}

// One sampler's learned state and its transitions, pure: the label windows, the baselines'
// signals, what was drawn and reported, and the frozen distributions of the epochs held. No
// storage and no clock: the service commits first, then applies here (src/service/sampler-runtime.ts).
import { FrozenDistribution } from './distribution.js';
import { failedPrecondition } from './errors.js';
import { HistoryWindows } from './history.js';
import { LabelSuspicion } from './label-suspicion.js';
import { SampleActivity, type CountedSteps } from './sample-activity.js';
import { SampleSignals } from './sample-signals.js';
import type { SamplerConfig } from './sampler-config.js';
import type { Snapshot } from './snapshot.js';
import { distributionOf, epochPlan, freezeState, stateOf, type EpochDistribution, type EpochPlan, type FrozenState } from './strategy.js';

/** Distributions kept in memory: the current epoch and the one before, for ranks lagging behind. */
const HELD_EPOCHS = 2;

/** Accepted reports per rank. */
export interface RankReports {
  readonly rank: number;
  readonly reports: number;
  readonly predictions: number;
  readonly lastStep: number;
}

/** What a report carries once checked (src/core/requests.ts). */
export interface AppliedReport {
  readonly step: number;
  readonly rank: number;
  readonly indices: Uint32Array;
  readonly labels: Uint32Array;
  readonly losses?: Float32Array | undefined;
  readonly trueClassProbs?: Float32Array | undefined;
  /** The labels the data set gives the indices (optional; NOISY_LABELS needs them). */
  readonly datasetLabels?: Uint32Array | undefined;
}

interface Meta {
  readonly reportsReceived: number;
  readonly predictionsReceived: number;
  readonly countedSteps: CountedSteps;
  readonly rankReports: readonly RankReports[];
  /** Held epochs, and whether each is kept as levels (Recency Bias) or weights (the baselines). */
  readonly frozen: readonly { readonly epoch: number; readonly kind: 'level' | 'weights'; readonly refurbished?: boolean }[];
}

const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

export class SamplerState {
  readonly history: HistoryWindows;
  readonly signals: SampleSignals;
  readonly activity: SampleActivity;
  /** Samples suspected mislabeled; made by the first report that carries dataset labels. */
  suspicion: LabelSuspicion | undefined;
  readonly rankReports = new Map<number, RankReports>();
  /** Log position of the last report applied. */
  lastSeq = 0;
  reportsReceived = 0;
  predictionsReceived = 0;
  predictionsSinceSnapshot = 0;
  private readonly frozen = new Map<number, EpochDistribution>();
  /** Per held epoch (NOISY_LABELS_REFURBISH): each sample's refurbished label at the freeze, or -1. */
  private readonly refurbishing = new Map<number, Int32Array>();

  constructor(readonly config: SamplerConfig) {
    this.history = new HistoryWindows(config.datasetSize, config.window, config.numClasses);
    this.signals = new SampleSignals(config.datasetSize);
    this.activity = new SampleActivity(config.datasetSize);
  }

  /** Applies a report that the log has durably accepted at `seq`. */
  apply(seq: number, report: AppliedReport): void {
    const { indices } = report;
    this.history.record(indices, report.labels);
    if (report.datasetLabels) {
      (this.suspicion ??= new LabelSuspicion(this.config.datasetSize)).record(indices, report.datasetLabels, this.history);
    }
    this.signals.record(indices, report.losses, report.trueClassProbs);
    this.activity.recordReport(report.step, indices);
    const rank = this.rankReports.get(report.rank);
    this.rankReports.set(report.rank, {
      rank: report.rank,
      reports: (rank?.reports ?? 0) + 1,
      predictions: (rank?.predictions ?? 0) + indices.length,
      lastStep: Math.max(rank?.lastStep ?? -1, report.step),
    });
    this.lastSeq = seq;
    this.predictionsSinceSnapshot += indices.length;
    this.reportsReceived += 1;
    this.predictionsReceived += indices.length;
  }

  /** The distribution of `epoch` if it is held. */
  held(epoch: number): EpochDistribution | undefined {
    return this.frozen.get(epoch);
  }

  /** The refurbished labels frozen for `epoch` (NOISY_LABELS_REFURBISH), if it is held and any were. */
  refurbishedAt(epoch: number): Int32Array | undefined {
    return this.refurbishing.get(epoch);
  }

  /** Throws unless `epoch`'s distribution is held or may still be frozen (it is not older than those held). */
  checkHeld(epoch: number): void {
    if (this.frozen.has(epoch) || this.frozen.size < HELD_EPOCHS || epoch > Math.min(...this.frozen.keys())) return;
    throw failedPrecondition(
      'step',
      `epoch ${epoch}'s distribution is no longer held (epochs ${[...this.frozen.keys()].join(', ')} are); ` +
        `every step of an epoch must be requested before the epoch after next starts`,
    );
  }

  /** Freezes P for `epoch` from the per-sample state as it stands now, or from a snapshot's (spec section 6). */
  freeze(epoch: number, plan: EpochPlan = epochPlan(this.config, epoch), state?: FrozenState): EpochDistribution {
    const frozenState = state ?? freezeState(this.config, plan, this.history, this.signals, this.suspicion);
    const distribution = distributionOf(this.config, plan, frozenState, this.history.levels.uncertainty);
    this.frozen.set(epoch, distribution);
    if ('refurbished' in frozenState && frozenState.refurbished) this.refurbishing.set(epoch, frozenState.refurbished);
    while (this.frozen.size > HELD_EPOCHS) {
      const oldest = Math.min(...this.frozen.keys());
      this.frozen.delete(oldest);
      this.refurbishing.delete(oldest);
    }
    return distribution;
  }

  /** The epochs whose distributions are held, ascending. */
  get heldEpochs(): number[] {
    return [...this.frozen.keys()].sort((a, b) => a - b);
  }

  /** The held epoch that freezing `epoch` would let go, if any. */
  letGoByFreezing(epoch: number): number | undefined {
    if (this.frozen.has(epoch) || this.frozen.size < HELD_EPOCHS) return undefined;
    return Math.min(...this.frozen.keys(), epoch);
  }

  /** The latest epoch whose distribution is held, if any. */
  get newestHeldEpoch(): number | undefined {
    return this.frozen.size > 0 ? Math.max(...this.frozen.keys()) : undefined;
  }

  /**
   * Older held epochs serve only lagging ranks: keeps one compact (2N bytes instead of 4N). An
   * O(N) pass, for idle time; false when there was nothing to compact.
   */
  compactOlderEpochs(): boolean {
    const newest = Math.max(...this.frozen.keys());
    for (const [epoch, d] of this.frozen) {
      if (epoch !== newest && d instanceof FrozenDistribution && !d.isCompact) {
        d.compact();
        return true;
      }
    }
    return false;
  }

  /** The state as of `lastSeq`. Parts are views of the live arrays, valid until the next report. */
  snapshot(): Snapshot {
    const { history, signals, activity } = this;
    const parts = new Map<string, Uint8Array>([
      ['labels', bytes(history.labels)],
      ['valid', history.valid],
      ['level', bytes(history.level)],
      ['levelKeys', bytes(Float64Array.from(history.levels.keys))],
      ['levelUncertainty', bytes(Float64Array.from(history.levels.uncertainty))],
      ['drawn', bytes(activity.drawn)],
      ['lastReported', bytes(activity.lastReported)],
    ]);
    for (const name of ['latestLoss', 'probCount', 'probMean', 'probM2'] as const) {
      const array = signals[name];
      if (array) parts.set(name, bytes(array));
    }
    if (this.suspicion) parts.set('suspicion', bytes(this.suspicion.consensus));
    const frozen: Meta['frozen'][number][] = [];
    for (const [epoch, distribution] of this.frozen) {
      const state = stateOf(distribution);
      const kind = 'level' in state ? 'level' : 'weights';
      parts.set(`frozen.${epoch}`, bytes('level' in state ? state.level : state.weights));
      const refurbished = this.refurbishing.get(epoch);
      if (refurbished) parts.set(`refurbished.${epoch}`, bytes(refurbished));
      frozen.push({ epoch, kind, ...(refurbished && { refurbished: true }) });
    }
    const meta: Meta = {
      reportsReceived: this.reportsReceived,
      predictionsReceived: this.predictionsReceived,
      countedSteps: activity.countedSteps,
      rankReports: [...this.rankReports.values()],
      frozen,
    };
    return { seq: this.lastSeq, meta: JSON.stringify(meta), parts };
  }

  /** The state a snapshot holds; throws if it does not fit this config. */
  static restore(config: SamplerConfig, snapshot: Snapshot): SamplerState {
    const state = new SamplerState(config);
    const meta = JSON.parse(snapshot.meta) as Meta;
    const part = (name: string) => {
      const value = snapshot.parts.get(name);
      if (!value) throw new Error(`snapshot lacks ${name}`);
      return value;
    };
    const copy = <T extends ArrayBufferView>(name: string, kind: { new (buffer: ArrayBuffer): T }): T => {
      const value = part(name);
      const buffer = new ArrayBuffer(value.byteLength);
      new Uint8Array(buffer).set(value);
      return new kind(buffer);
    };
    const h = state.history;
    if (part('valid').length !== h.size || part('labels').byteLength !== h.labels.byteLength) {
      throw new Error('snapshot does not match the sampler config');
    }
    bytes(h.labels).set(part('labels'));
    h.valid.set(part('valid'));
    h.level.set(copy('level', Uint16Array));
    const keys = copy('levelKeys', Float64Array);
    const uncertainty = copy('levelUncertainty', Float64Array);
    for (let id = 1; id < keys.length; id++) h.levels.idOf(keys[id] ?? 0, uncertainty[id] ?? 1);
    h.recountLevels();
    state.activity.restore(copy('drawn', Uint16Array), copy('lastReported', Uint32Array), meta.countedSteps);
    const has = (name: string) => snapshot.parts.has(name);
    if (has('latestLoss')) state.signals.latestLoss = copy('latestLoss', Float32Array);
    if (has('probCount')) state.signals.probCount = copy('probCount', Uint32Array);
    if (has('probMean')) state.signals.probMean = copy('probMean', Float64Array);
    if (has('probM2')) state.signals.probM2 = copy('probM2', Float64Array);
    if (has('suspicion')) state.suspicion = new LabelSuspicion(config.datasetSize, copy('suspicion', Int32Array));
    for (const r of meta.rankReports) state.rankReports.set(r.rank, r);
    state.lastSeq = snapshot.seq;
    state.reportsReceived = meta.reportsReceived;
    state.predictionsReceived = meta.predictionsReceived;
    for (const { epoch, kind, refurbished } of meta.frozen) {
      const frozenState =
        kind === 'level'
          ? { level: copy(`frozen.${epoch}`, Uint16Array), refurbished: refurbished ? copy(`refurbished.${epoch}`, Int32Array) : undefined }
          : { weights: copy(`frozen.${epoch}`, Float64Array) };
      state.freeze(epoch, epochPlan(config, epoch), frozenState);
    }
    return state;
  }
}

// Read-only views of one sampler's state for the HTTP inspection API and the dashboard. Computed
// on request from the runtime's arrays; nothing here changes state.
import { pageByKey } from '../core/paging.js';
import { selectionPressure, stepsPerEpoch, totalSteps } from '../core/schedule.js';
import { epochOfStep, epochPlan, type Phase } from '../core/strategy.js';
import { uncertaintySummary, uncertaintyValues } from '../core/uncertainty-summary.js';
import type { RankReports } from '../core/sampler-state.js';
import type { EpochStats } from '../storage/storage.js';
import type { InspectedSampler } from './sampler-runtime.js';

export const SAMPLE_ORDERS = ['uncertainty', 'drawn', 'index'] as const;
export type SampleOrder = (typeof SAMPLE_ORDERS)[number];

/** Points of the planned s_e curve at most (evenly spaced epochs beyond that). */
const MAX_SCHEDULE_POINTS = 500;

export interface SamplerDetail {
  readonly name: string;
  readonly config: InspectedSampler['config'];
  readonly createdAt: string;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** The step last served (-1 before the first) and its epoch and phase. */
  readonly step: number;
  readonly epoch: number;
  readonly phase: Phase;
  readonly selectionPressure: number | null;
  readonly batchesServed: number;
  readonly reportsReceived: number;
  readonly predictionsReceived: number;
  readonly reportsPerRank: readonly RankReports[];
  readonly meanUncertainty: number;
  readonly neverSeen: number;
  readonly histogram: readonly number[];
  readonly uncertaintyValues: readonly { uncertainty: number; samples: number; meanDrawn: number }[];
  readonly lastActivity: string | null;
}

export interface SampleView {
  readonly index: number;
  /** Predicted labels, oldest first. */
  readonly window: number[];
  readonly valid: number;
  readonly uncertainty: number;
  /** P(i) for one draw of the current epoch; null when the epoch's distribution is not held. */
  readonly probability: number | null;
  readonly drawn: number;
  readonly lastReportedStep: number | null;
  readonly latestLoss: number | null;
  readonly trueClassProb: { readonly reports: number; readonly mean: number; readonly stdHat: number } | null;
}

export type SamplerSummary = Omit<SamplerDetail, 'uncertaintyValues'>;

/** Everything about a sampler that costs O(levels), not O(N): safe to poll and to scrape. */
export function samplerSummary(runtime: InspectedSampler): SamplerSummary {
  const { config, stored } = runtime;
  const { history, activity } = runtime.state;
  const position = currentPosition(runtime);
  const summary = uncertaintySummary(history);
  return {
    name: stored.name,
    config,
    createdAt: stored.createdAt,
    stepsPerEpoch: stepsPerEpoch(config),
    totalSteps: totalSteps(config),
    step: runtime.lastServedStep,
    epoch: position.epoch,
    phase: position.phase,
    selectionPressure: position.pressure,
    batchesServed: activity.batchesCounted,
    reportsReceived: runtime.state.reportsReceived,
    predictionsReceived: runtime.state.predictionsReceived,
    reportsPerRank: [...runtime.state.rankReports.values()].sort((a, b) => a.rank - b.rank),
    ...summary,
    lastActivity: runtime.lastActivityMs === undefined ? null : new Date(runtime.lastActivityMs).toISOString(),
  };
}

/** The summary plus, per distinct F, how often its samples were drawn (one O(N) pass). */
export function samplerDetail(runtime: InspectedSampler): SamplerDetail {
  return { ...samplerSummary(runtime), uncertaintyValues: drawsByUncertainty(runtime) };
}

/** Per epoch served: the data set at its start, and the planned s_e of every epoch. */
export function epochHistory(runtime: InspectedSampler): { epochs: EpochStats[]; schedule: { epoch: number; pressure: number }[] } {
  const config = runtime.config;
  const step = Math.max(1, Math.ceil(config.epochs / MAX_SCHEDULE_POINTS));
  const schedule = [];
  if (config.strategy !== 'ACTIVE_BIAS') {
    for (let e = 0; e < config.epochs; e += step) {
      schedule.push({ epoch: e, pressure: config.strategy === 'RANDOM' ? 1 : selectionPressure(e, config) });
    }
  }
  return { epochs: [...runtime.epochStats.values()].sort((a, b) => a.epoch - b.epoch), schedule };
}

export function sampleView(runtime: InspectedSampler, index: number, probabilityOf = probabilities(runtime)): SampleView {
  const { history, activity, signals } = runtime.state;
  const reported = activity.lastReported[index] ?? 0;
  const loss = signals.latestLoss?.[index];
  const probReports = signals.probCount?.[index] ?? 0;
  return {
    index,
    window: history.windowOf(index),
    valid: history.valid[index] ?? 0,
    uncertainty: history.uncertaintyOf(index),
    probability: probabilityOf(index),
    drawn: activity.drawn[index] ?? 0,
    lastReportedStep: reported === 0 ? null : reported - 1,
    latestLoss: loss === undefined || Number.isNaN(loss) ? null : loss,
    trueClassProb:
      probReports === 0 ? null : { reports: probReports, mean: signals.probMean![index]!, stdHat: signals.activeBiasStd(index) },
  };
}

/** Indices of one page of samples in the given order (most uncertain / most drawn first). */
export function samplePage(runtime: InspectedSampler, order: SampleOrder, offset: number, limit: number): Uint32Array {
  const n = runtime.config.datasetSize;
  if (order === 'index') {
    const end = Math.min(n, offset + limit);
    return Uint32Array.from({ length: Math.max(0, end - offset) }, (_, j) => offset + j);
  }
  if (order === 'drawn') {
    const drawn = runtime.state.activity.drawn;
    return pageByKey(n, (i) => 0xffff - drawn[i]!, 0x10000, offset, limit);
  }
  // Uncertainty: rank the distinct F values, highest first; levels with equal F share a rank.
  const { level, levels } = runtime.state.history;
  const values = [...new Set(levels.uncertainty)].sort((a, b) => b - a);
  const rankOfValue = new Map(values.map((f, r) => [f, r]));
  const rankOfLevel = Uint32Array.from(levels.uncertainty, (f) => rankOfValue.get(f)!);
  return pageByKey(n, (i) => rankOfLevel[level[i]!]!, values.length, offset, limit);
}

/** P(i) for one draw of the current epoch, for any number of samples. */
export function probabilities(runtime: InspectedSampler): (index: number) => number | null {
  const { epoch } = currentPosition(runtime);
  const plan = epochPlan(runtime.config, epoch);
  const n = runtime.config.datasetSize;
  if (!plan.weightedDraws) return () => 1 / n;
  const distribution = runtime.state.held(epoch);
  return distribution ? (i) => distribution.probabilityOf(i) : () => null;
}

function currentPosition(runtime: InspectedSampler): { epoch: number; phase: Phase; pressure: number | null } {
  const epoch = runtime.lastServedStep < 0 ? 0 : epochOfStep(runtime.config, runtime.lastServedStep).epoch;
  const plan = epochPlan(runtime.config, epoch);
  const held = runtime.state.held(epoch);
  const pressure = held?.pressure ?? (plan.pressure === 0 ? null : plan.pressure);
  return { epoch, phase: plan.phase, pressure };
}

/** Samples and mean times drawn per distinct F value: does the sampler favour the uncertain? */
function drawsByUncertainty(runtime: InspectedSampler): { uncertainty: number; samples: number; meanDrawn: number }[] {
  const { level, levels } = runtime.state.history;
  const drawn = runtime.state.activity.drawn;
  const drawsOfLevel = new Float64Array(levels.size);
  for (let i = 0; i < level.length; i++) drawsOfLevel[level[i]!]! += drawn[i]!;
  const drawsOfValue = new Map<number, number>();
  levels.uncertainty.forEach((f, l) => drawsOfValue.set(f, (drawsOfValue.get(f) ?? 0) + drawsOfLevel[l]!));
  return uncertaintyValues(runtime.state.history).map(({ uncertainty, samples }) => ({
    uncertainty,
    samples,
    meanDrawn: (drawsOfValue.get(uncertainty) ?? 0) / samples,
  }));
}

// Validation of the per-call fields of NextBatch and ReportPredictions against a sampler's
// config. Pure: returns clean typed values or throws an error naming the field.
import { failedPrecondition, invalidArgument } from './errors.js';
import type { SamplerConfig } from './sampler-config.js';
import { totalSteps } from './schedule.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkName(field: string, name: string | undefined): string {
  if (!name) throw invalidArgument(field, 'is required');
  if (!NAME_PATTERN.test(name)) {
    throw invalidArgument(field, `must match ${NAME_PATTERN.source} (letters, digits, '.', '_', '-'), got ${JSON.stringify(name.slice(0, 140))}`);
  }
  return name;
}

export function checkStep(config: SamplerConfig, step: number | undefined): number {
  const total = totalSteps(config);
  const s = step ?? 0;
  if (!Number.isSafeInteger(s) || s < 0 || s >= total) {
    throw invalidArgument('step', `must be in [0, ${total}) (${config.epochs} epochs of ${total / config.epochs} steps), got ${s}`);
  }
  return s;
}

export function checkRank(rank: number | undefined, worldSize: number): number {
  const r = rank ?? 0;
  if (r >= worldSize) throw invalidArgument('rank', `must be < world_size (${worldSize}), got ${r}`);
  return r;
}

/** world_size 0 (unset) means a single process. */
export function checkWorldSize(config: SamplerConfig, worldSize: number | undefined): number {
  const w = worldSize || 1;
  if (w > config.batchSize) {
    throw invalidArgument('world_size', `must be <= batch_size (${config.batchSize}) so every rank gets samples, got ${w}`);
  }
  return w;
}

export interface ReportFields {
  readonly indices?: ArrayLike<number> | undefined;
  readonly predictedLabels?: ArrayLike<number> | undefined;
  readonly losses?: ArrayLike<number> | undefined;
  readonly trueClassProbs?: ArrayLike<number> | undefined;
  readonly datasetLabels?: ArrayLike<number> | undefined;
}

export interface CheckedReport {
  readonly indices: Uint32Array;
  readonly labels: Uint32Array;
  readonly losses: Float32Array | undefined;
  readonly trueClassProbs: Float32Array | undefined;
  readonly datasetLabels: Uint32Array | undefined;
}

/** Checks lengths and ranges of a report's arrays; one pass over each. */
export function checkReport(config: SamplerConfig, fields: ReportFields): CheckedReport {
  const n = fields.indices?.length ?? 0;
  if (n === 0) throw invalidArgument('indices', 'must not be empty');
  const labelCount = fields.predictedLabels?.length ?? 0;
  if (labelCount !== n) {
    throw invalidArgument('predicted_labels', `must have one label per index (${n}), got ${labelCount}`);
  }
  const indices = toUint32(fields.indices ?? [], config.datasetSize, 'indices', 'dataset_size');
  const labels = toUint32(fields.predictedLabels ?? [], config.numClasses, 'predicted_labels', 'num_classes');
  const losses = optionalFloats(fields.losses, n, 'losses', (v) => Number.isFinite(v) && v >= 0, 'a finite number >= 0');
  const trueClassProbs = optionalFloats(fields.trueClassProbs, n, 'true_class_probs', (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const given = fields.datasetLabels?.length ?? 0;
  if (given !== 0 && given !== n) {
    throw invalidArgument('dataset_labels', `must be empty or have one label per index (${n}), got ${given}`);
  }
  const datasetLabels = given ? toUint32(fields.datasetLabels ?? [], config.numClasses, 'dataset_labels', 'num_classes') : undefined;
  return { indices, labels, losses, trueClassProbs, datasetLabels };
}

/** Scratch for checkWithinShare: an open-addressing set of the share's indices (-1: empty). */
let slotKeys = new Int32Array(0);
let slotTaken = new Uint8Array(0);

/**
 * A report covers part or all of the rank's share of its step, each index once: a window must
 * never fill from repeats of one sample or learn from a sample the step did not train on.
 * O(share) with a small hash set that stays in cache, cheaper than a Set on every report.
 */
export function checkWithinShare(indices: Uint32Array, share: Uint32Array, step: number, rank: number): void {
  const whose = `rank ${rank}'s share of step ${step}`;
  if (indices.length > share.length) {
    throw invalidArgument('indices', `must hold at most the ${share.length} indices of ${whose}, got ${indices.length}`);
  }
  if (indices.length === share.length && indices.every((index, i) => index === share[i])) {
    return; // the share sent back as it was served (the clients do so): distinct, all in it
  }
  const capacity = 2 ** Math.ceil(Math.log2(share.length * 2 + 1));
  if (slotKeys.length < capacity) {
    slotKeys = new Int32Array(capacity);
    slotTaken = new Uint8Array(capacity);
  }
  const mask = capacity - 1;
  slotKeys.fill(-1, 0, capacity);
  slotTaken.fill(0, 0, capacity);
  const slotOf = (index: number) => {
    let slot = (Math.imul(index, 0x9e3779b1) >>> 0) & mask;
    while (slotKeys[slot] !== -1 && slotKeys[slot] !== index) slot = (slot + 1) & mask;
    return slot;
  };
  for (const index of share) slotKeys[slotOf(index)] = index;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    const slot = slotOf(index);
    if (slotKeys[slot] === index && slotTaken[slot] === 0) {
      slotTaken[slot] = 1;
      continue;
    }
    const why = slotKeys[slot] === index ? 'appears twice in the report' : `is not in ${whose}`;
    throw invalidArgument(`indices[${i}]`, `${index} ${why}`);
  }
}

/** The report fields a strategy learns from besides labels: missing, the report cannot be used. */
export function checkStrategyFields(config: SamplerConfig, report: CheckedReport): void {
  if (config.strategy === 'ONLINE_BATCH' && !report.losses) {
    throw failedPrecondition('losses', 'the sampler uses ONLINE_BATCH, which ranks samples by their latest loss: send one loss per index');
  }
  if (config.strategy === 'ACTIVE_BIAS' && !report.trueClassProbs) {
    throw failedPrecondition(
      'true_class_probs',
      'the sampler uses ACTIVE_BIAS, which needs the predicted probability of the true class: send one per index',
    );
  }
  if (config.noisyLabels !== 'IGNORE' && !report.datasetLabels) {
    throw failedPrecondition(
      'dataset_labels',
      `the sampler uses noisy_labels ${config.noisyLabels}, which compares predictions with the dataset's labels: send one per index`,
    );
  }
}

function toUint32(values: ArrayLike<number>, bound: number, field: string, boundName: string): Uint32Array {
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? -1;
    if (!(v >= 0 && v < bound) || !Number.isInteger(v)) {
      throw invalidArgument(`${field}[${i}]`, `must be an integer in [0, ${boundName} = ${bound}), got ${v}`);
    }
    out[i] = v;
  }
  return out;
}

function optionalFloats(
  values: ArrayLike<number> | undefined,
  n: number,
  field: string,
  ok: (v: number) => boolean,
  expected: string,
): Float32Array | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length !== n) throw invalidArgument(field, `must be empty or have one value per index (${n}), got ${values.length}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? Number.NaN;
    if (!ok(v)) throw invalidArgument(`${field}[${i}]`, `must be ${expected}, got ${v}`);
    out[i] = v;
  }
  return out;
}

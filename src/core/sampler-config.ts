// A sampler's configuration: its defaults in one place, validated once, then frozen.
import { z } from 'zod';
import { invalidArgument } from './errors.js';
import { labelBytes } from './history.js';

export const STRATEGIES = ['RECENCY_BIAS', 'RANDOM', 'ONLINE_BATCH', 'ACTIVE_BIAS'] as const;
export type StrategyName = (typeof STRATEGIES)[number];
export const ACTIVE_BIAS_MODES = ['SAMPLE', 'REWEIGHT'] as const;
export type ActiveBiasMode = (typeof ACTIVE_BIAS_MODES)[number];
/** What Recency Bias does with samples suspected mislabeled (src/core/label-suspicion.ts). */
export const NOISY_LABELS = ['IGNORE', 'EXCLUDE', 'REFURBISH'] as const;
export type NoisyLabels = (typeof NOISY_LABELS)[number];

export const MAX_WINDOW = 32; // keeps the distinct uncertainty levels below 2^16 (43,820 at q = 32)
const UINT32_MAX = 0xffff_ffff;
/** Per-sample state is about 40 bytes plus the window: 2^26 samples take under 3 GiB plus windows. */
export const MAX_DATASET_SIZE = 2 ** 26;
/** The windows' memory: dataset_size x window labels of 1, 2 or 4 bytes (up to 256, 65,536 or more classes). */
export const MAX_WINDOW_BYTES = 2 ** 31;
/** A global batch is drawn on the service's one thread: 65,536 indices take well under 100 ms. */
export const MAX_BATCH_SIZE = 65_536;

export interface SamplerConfig {
  readonly datasetSize: number;
  readonly numClasses: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly strategy: StrategyName;
  readonly window: number;
  readonly initialPressure: number;
  readonly warmupEpochs: number;
  readonly seed: number;
  readonly dropLast: boolean;
  /** eps of Active Bias: P(i) proportional to std_hat(i) + eps. */
  readonly activeBiasEpsilon: number;
  readonly activeBiasMode: ActiveBiasMode;
  readonly noisyLabels: NoisyLabels;
}

/** What a caller may send: every field optional, as proto3 decodes it. */
export type SamplerConfigInput = { [K in keyof SamplerConfig]?: SamplerConfig[K] | undefined };

export const DEFAULTS = {
  window: 10,
  initialPressure: 100,
  strategy: 'RECENCY_BIAS',
  seed: 0,
  dropLast: false,
  activeBiasEpsilon: 0.2,
  activeBiasMode: 'SAMPLE',
  noisyLabels: 'IGNORE',
} as const;

const count = (min: number, max = UINT32_MAX) =>
  z.number().int(`must be an integer`).min(min, `must be >= ${min}`).max(max, `must be <= ${max}`);

const schema = z.object({
  datasetSize: count(1, MAX_DATASET_SIZE),
  numClasses: count(2),
  batchSize: count(1, MAX_BATCH_SIZE),
  epochs: count(1, 1_000_000),
  strategy: z.enum(STRATEGIES, `must be one of ${STRATEGIES.join(', ')}`).default(DEFAULTS.strategy),
  window: count(1, MAX_WINDOW).default(DEFAULTS.window),
  initialPressure: z
    .number()
    .min(1, 'must be >= 1')
    .max(1e12, 'must be <= 1e12')
    .default(DEFAULTS.initialPressure),
  warmupEpochs: count(0).optional(),
  seed: count(0).default(DEFAULTS.seed),
  dropLast: z.boolean().default(DEFAULTS.dropLast),
  activeBiasEpsilon: z.number().gt(0, 'must be > 0').max(1e6, 'must be <= 1e6').default(DEFAULTS.activeBiasEpsilon),
  activeBiasMode: z.enum(ACTIVE_BIAS_MODES, `must be one of ${ACTIVE_BIAS_MODES.join(', ')}`).default(DEFAULTS.activeBiasMode),
  noisyLabels: z.enum(NOISY_LABELS, `must be one of ${NOISY_LABELS.join(', ')}`).default(DEFAULTS.noisyLabels),
});

/** A field's name as the contract (and so the user) spells it: datasetSize -> dataset_size. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function fieldName(key: PropertyKey | undefined): string {
  return `config.${snakeCase(String(key))}`;
}

/** Validates a requested config and fills in its defaults, or throws INVALID_ARGUMENT naming the field. */
export function normalizeConfig(input: SamplerConfigInput | undefined): SamplerConfig {
  if (input === undefined) throw invalidArgument('config', 'is required');
  for (const required of ['datasetSize', 'numClasses', 'batchSize', 'epochs'] as const) {
    if (input[required] === undefined) throw invalidArgument(fieldName(required), 'is required');
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path[0];
    const got = key === undefined ? '' : ` (got ${JSON.stringify(input[key as keyof SamplerConfig])})`;
    throw invalidArgument(fieldName(key), `${issue?.message ?? 'is invalid'}${got}`);
  }
  const c = parsed.data;
  if (c.batchSize > c.datasetSize) {
    throw invalidArgument('config.batch_size', `must be <= dataset_size (${c.datasetSize}), got ${c.batchSize}`);
  }
  const bytes = labelBytes(c.numClasses);
  if (c.datasetSize * c.window * bytes > MAX_WINDOW_BYTES) {
    throw invalidArgument(
      'config.window',
      `the windows would take dataset_size x window x ${bytes} bytes = ${c.datasetSize * c.window * bytes}, ` +
        `more than the limit of ${MAX_WINDOW_BYTES}; lower window`,
    );
  }
  if (c.noisyLabels !== 'IGNORE' && c.strategy !== 'RECENCY_BIAS') {
    throw invalidArgument('config.noisy_labels', `applies to RECENCY_BIAS only, got ${c.noisyLabels} with ${c.strategy}`);
  }
  // Unset, the warm-up fills the windows but leaves at least half of the run adaptive.
  const warmupEpochs = c.warmupEpochs ?? Math.min(c.window, Math.floor(c.epochs / 2));
  if (warmupEpochs > c.epochs) {
    throw invalidArgument('config.warmup_epochs', `must be <= epochs (${c.epochs}), got ${warmupEpochs}`);
  }
  return Object.freeze({ ...c, warmupEpochs });
}

/**
 * Why a config never selects anything (its batches are plain shuffles), or undefined. s_e reaches
 * 1 at the last epoch, so Recency Bias and Online Batch need an adaptive epoch before it.
 */
export function uniformThroughout(c: SamplerConfig): string | undefined {
  if (c.strategy === 'RANDOM') return undefined;
  const lastPressured = c.strategy === 'ACTIVE_BIAS' ? c.epochs - 1 : c.epochs - 2;
  if (c.warmupEpochs <= lastPressured) return undefined;
  const why = c.strategy === 'ACTIVE_BIAS' ? 'every epoch is warm-up' : 'every epoch is warm-up or the last (where s_e = 1)';
  return `${why} with epochs = ${c.epochs} and warmup_epochs = ${c.warmupEpochs}: the batches are plain shuffles; ` +
    `lower warmup_epochs or train for more epochs to select`;
}

/** A config stored by an older version, with the defaults of fields added since. */
export function withLaterDefaults(
  stored: Omit<SamplerConfig, 'activeBiasEpsilon' | 'activeBiasMode' | 'noisyLabels'> & Partial<SamplerConfig>,
): SamplerConfig {
  return Object.freeze({
    ...stored,
    activeBiasEpsilon: stored.activeBiasEpsilon ?? DEFAULTS.activeBiasEpsilon,
    activeBiasMode: stored.activeBiasMode ?? DEFAULTS.activeBiasMode,
    noisyLabels: stored.noisyLabels ?? DEFAULTS.noisyLabels,
  });
}

export function configsEqual(a: SamplerConfig, b: SamplerConfig): boolean {
  return (Object.keys(a) as (keyof SamplerConfig)[]).every((key) => a[key] === b[key]);
}

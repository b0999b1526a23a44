// Original file: proto/recency_sampler/v1/sampler.proto

import type { Strategy as _recency_sampler_v1_Strategy, Strategy__Output as _recency_sampler_v1_Strategy__Output } from '../../recency_sampler/v1/Strategy.js';
import type { ActiveBiasMode as _recency_sampler_v1_ActiveBiasMode, ActiveBiasMode__Output as _recency_sampler_v1_ActiveBiasMode__Output } from '../../recency_sampler/v1/ActiveBiasMode.js';
import type { NoisyLabels as _recency_sampler_v1_NoisyLabels, NoisyLabels__Output as _recency_sampler_v1_NoisyLabels__Output } from '../../recency_sampler/v1/NoisyLabels.js';

export interface SamplerConfig {
  'datasetSize'?: (number);
  'numClasses'?: (number);
  'batchSize'?: (number);
  'epochs'?: (number);
  'strategy'?: (_recency_sampler_v1_Strategy);
  'window'?: (number);
  'initialPressure'?: (number | string);
  'warmupEpochs'?: (number);
  'seed'?: (number);
  'dropLast'?: (boolean);
  'activeBiasEpsilon'?: (number | string);
  'activeBiasMode'?: (_recency_sampler_v1_ActiveBiasMode);
  'noisyLabels'?: (_recency_sampler_v1_NoisyLabels);
  '_window'?: "window";
  '_initialPressure'?: "initialPressure";
  '_warmupEpochs'?: "warmupEpochs";
  '_activeBiasEpsilon'?: "activeBiasEpsilon";
}

export interface SamplerConfig__Output {
  'datasetSize'?: (number);
  'numClasses'?: (number);
  'batchSize'?: (number);
  'epochs'?: (number);
  'strategy'?: (_recency_sampler_v1_Strategy__Output);
  'window'?: (number);
  'initialPressure'?: (number);
  'warmupEpochs'?: (number);
  'seed'?: (number);
  'dropLast'?: (boolean);
  'activeBiasEpsilon'?: (number);
  'activeBiasMode'?: (_recency_sampler_v1_ActiveBiasMode__Output);
  'noisyLabels'?: (_recency_sampler_v1_NoisyLabels__Output);
  '_window'?: "window";
  '_initialPressure'?: "initialPressure";
  '_warmupEpochs'?: "warmupEpochs";
  '_activeBiasEpsilon'?: "activeBiasEpsilon";
}

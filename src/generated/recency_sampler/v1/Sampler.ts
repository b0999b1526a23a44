// Original file: proto/recency_sampler/v1/sampler.proto

import type { SamplerConfig as _recency_sampler_v1_SamplerConfig, SamplerConfig__Output as _recency_sampler_v1_SamplerConfig__Output } from '../../recency_sampler/v1/SamplerConfig.js';
import type { EpochDiagnostics as _recency_sampler_v1_EpochDiagnostics, EpochDiagnostics__Output as _recency_sampler_v1_EpochDiagnostics__Output } from '../../recency_sampler/v1/EpochDiagnostics.js';
import type { Long } from '@grpc/proto-loader';

export interface Sampler {
  'name'?: (string);
  'config'?: (_recency_sampler_v1_SamplerConfig | null);
  'stepsPerEpoch'?: (number);
  'totalSteps'?: (number | string | Long);
  'createdAt'?: (string);
  'reportsReceived'?: (number | string | Long);
  'predictionsReceived'?: (number | string | Long);
  'epochs'?: (_recency_sampler_v1_EpochDiagnostics)[];
}

export interface Sampler__Output {
  'name'?: (string);
  'config'?: (_recency_sampler_v1_SamplerConfig__Output);
  'stepsPerEpoch'?: (number);
  'totalSteps'?: (number);
  'createdAt'?: (string);
  'reportsReceived'?: (number);
  'predictionsReceived'?: (number);
  'epochs'?: (_recency_sampler_v1_EpochDiagnostics__Output)[];
}

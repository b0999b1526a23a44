// Original file: proto/recency_sampler/v1/sampler.proto

import type { SamplerConfig as _recency_sampler_v1_SamplerConfig, SamplerConfig__Output as _recency_sampler_v1_SamplerConfig__Output } from '../../recency_sampler/v1/SamplerConfig.js';

export interface CreateSamplerRequest {
  'name'?: (string);
  'config'?: (_recency_sampler_v1_SamplerConfig | null);
}

export interface CreateSamplerRequest__Output {
  'name'?: (string);
  'config'?: (_recency_sampler_v1_SamplerConfig__Output);
}

// Original file: proto/recency_sampler/v1/sampler.proto

import type { Sampler as _recency_sampler_v1_Sampler, Sampler__Output as _recency_sampler_v1_Sampler__Output } from '../../recency_sampler/v1/Sampler.js';

export interface ListSamplersResponse {
  'samplers'?: (_recency_sampler_v1_Sampler)[];
}

export interface ListSamplersResponse__Output {
  'samplers'?: (_recency_sampler_v1_Sampler__Output)[];
}

// Original file: proto/recency_sampler/v1/sampler.proto

import type { Batch as _recency_sampler_v1_Batch, Batch__Output as _recency_sampler_v1_Batch__Output } from '../../recency_sampler/v1/Batch.js';

export interface NextBatchesResponse {
  'batches'?: (_recency_sampler_v1_Batch)[];
}

export interface NextBatchesResponse__Output {
  'batches'?: (_recency_sampler_v1_Batch__Output)[];
}

// Original file: proto/recency_sampler/v1/sampler.proto

import type { Phase as _recency_sampler_v1_Phase, Phase__Output as _recency_sampler_v1_Phase__Output } from '../../recency_sampler/v1/Phase.js';
import type { Long } from '@grpc/proto-loader';

export interface Batch {
  'indices'?: (number)[];
  'step'?: (number | string | Long);
  'epoch'?: (number);
  'selectionPressure'?: (number | string);
  'phase'?: (_recency_sampler_v1_Phase);
  'globalBatchSize'?: (number);
  'lossWeights'?: (number | string)[];
  'packedIndices'?: (Buffer | Uint8Array | string);
  'packedLossWeights'?: (Buffer | Uint8Array | string);
  'refurbishedLabels'?: (number)[];
  'packedRefurbishedLabels'?: (Buffer | Uint8Array | string);
}

export interface Batch__Output {
  'indices'?: (number)[];
  'step'?: (number);
  'epoch'?: (number);
  'selectionPressure'?: (number);
  'phase'?: (_recency_sampler_v1_Phase__Output);
  'globalBatchSize'?: (number);
  'lossWeights'?: (number)[];
  'packedIndices'?: (Buffer);
  'packedLossWeights'?: (Buffer);
  'refurbishedLabels'?: (number)[];
  'packedRefurbishedLabels'?: (Buffer);
}

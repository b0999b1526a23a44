// Original file: proto/recency_sampler/v1/sampler.proto

import type { Long } from '@grpc/proto-loader';

export interface NextBatchRequest {
  'sampler'?: (string);
  'step'?: (number | string | Long);
  'rank'?: (number);
  'worldSize'?: (number);
  'packed'?: (boolean);
}

export interface NextBatchRequest__Output {
  'sampler'?: (string);
  'step'?: (number);
  'rank'?: (number);
  'worldSize'?: (number);
  'packed'?: (boolean);
}

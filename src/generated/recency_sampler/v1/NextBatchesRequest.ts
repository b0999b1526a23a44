// Original file: proto/recency_sampler/v1/sampler.proto

import type { Long } from '@grpc/proto-loader';

export interface NextBatchesRequest {
  'sampler'?: (string);
  'step'?: (number | string | Long);
  'count'?: (number);
  'rank'?: (number);
  'worldSize'?: (number);
  'packed'?: (boolean);
}

export interface NextBatchesRequest__Output {
  'sampler'?: (string);
  'step'?: (number);
  'count'?: (number);
  'rank'?: (number);
  'worldSize'?: (number);
  'packed'?: (boolean);
}

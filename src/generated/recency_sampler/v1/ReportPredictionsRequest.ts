// Original file: proto/recency_sampler/v1/sampler.proto

import type { Long } from '@grpc/proto-loader';

export interface ReportPredictionsRequest {
  'sampler'?: (string);
  'step'?: (number | string | Long);
  'rank'?: (number);
  'indices'?: (number)[];
  'predictedLabels'?: (number)[];
  'losses'?: (number | string)[];
  'trueClassProbs'?: (number | string)[];
  'worldSize'?: (number);
}

export interface ReportPredictionsRequest__Output {
  'sampler'?: (string);
  'step'?: (number);
  'rank'?: (number);
  'indices'?: (number)[];
  'predictedLabels'?: (number)[];
  'losses'?: (number)[];
  'trueClassProbs'?: (number)[];
  'worldSize'?: (number);
}

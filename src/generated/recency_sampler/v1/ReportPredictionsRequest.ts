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
  'packedIndices'?: (Buffer | Uint8Array | string);
  'packedPredictedLabels'?: (Buffer | Uint8Array | string);
  'packedLosses'?: (Buffer | Uint8Array | string);
  'packedTrueClassProbs'?: (Buffer | Uint8Array | string);
  'datasetLabels'?: (number)[];
  'packedDatasetLabels'?: (Buffer | Uint8Array | string);
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
  'packedIndices'?: (Buffer);
  'packedPredictedLabels'?: (Buffer);
  'packedLosses'?: (Buffer);
  'packedTrueClassProbs'?: (Buffer);
  'datasetLabels'?: (number)[];
  'packedDatasetLabels'?: (Buffer);
}

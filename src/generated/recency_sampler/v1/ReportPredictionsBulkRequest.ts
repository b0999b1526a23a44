// Original file: proto/recency_sampler/v1/sampler.proto

import type { ReportPredictionsRequest as _recency_sampler_v1_ReportPredictionsRequest, ReportPredictionsRequest__Output as _recency_sampler_v1_ReportPredictionsRequest__Output } from '../../recency_sampler/v1/ReportPredictionsRequest.js';

export interface ReportPredictionsBulkRequest {
  'reports'?: (_recency_sampler_v1_ReportPredictionsRequest)[];
}

export interface ReportPredictionsBulkRequest__Output {
  'reports'?: (_recency_sampler_v1_ReportPredictionsRequest__Output)[];
}

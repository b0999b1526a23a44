// Original file: proto/recency_sampler/v1/sampler.proto

import type { ReportPredictionsResponse as _recency_sampler_v1_ReportPredictionsResponse, ReportPredictionsResponse__Output as _recency_sampler_v1_ReportPredictionsResponse__Output } from '../../recency_sampler/v1/ReportPredictionsResponse.js';

export interface ReportPredictionsBulkResponse {
  'results'?: (_recency_sampler_v1_ReportPredictionsResponse)[];
}

export interface ReportPredictionsBulkResponse__Output {
  'results'?: (_recency_sampler_v1_ReportPredictionsResponse__Output)[];
}

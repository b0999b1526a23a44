// Original file: proto/recency_sampler/v1/sampler.proto


export interface ReportPredictionsResponse {
  'accepted'?: (number);
  'duplicate'?: (boolean);
}

export interface ReportPredictionsResponse__Output {
  'accepted'?: (number);
  'duplicate'?: (boolean);
}

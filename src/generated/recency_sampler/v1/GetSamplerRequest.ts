// Original file: proto/recency_sampler/v1/sampler.proto


export interface GetSamplerRequest {
  'name'?: (string);
}

export interface GetSamplerRequest__Output {
  'name'?: (string);
}

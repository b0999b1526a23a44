// Original file: proto/recency_sampler/v1/sampler.proto


export interface DeleteSamplerRequest {
  'name'?: (string);
}

export interface DeleteSamplerRequest__Output {
  'name'?: (string);
}

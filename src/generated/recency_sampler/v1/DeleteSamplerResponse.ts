// Original file: proto/recency_sampler/v1/sampler.proto


export interface DeleteSamplerResponse {
}

export interface DeleteSamplerResponse__Output {
}

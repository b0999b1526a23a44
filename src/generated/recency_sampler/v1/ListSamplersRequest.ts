// Original file: proto/recency_sampler/v1/sampler.proto


export interface ListSamplersRequest {
}

export interface ListSamplersRequest__Output {
}

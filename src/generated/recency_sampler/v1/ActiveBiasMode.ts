// Original file: proto/recency_sampler/v1/sampler.proto

export const ActiveBiasMode = {
  ACTIVE_BIAS_SAMPLE: 'ACTIVE_BIAS_SAMPLE',
  ACTIVE_BIAS_REWEIGHT: 'ACTIVE_BIAS_REWEIGHT',
} as const;

export type ActiveBiasMode =
  | 'ACTIVE_BIAS_SAMPLE'
  | 0
  | 'ACTIVE_BIAS_REWEIGHT'
  | 1

export type ActiveBiasMode__Output = typeof ActiveBiasMode[keyof typeof ActiveBiasMode]

// Original file: proto/recency_sampler/v1/sampler.proto

export const Strategy = {
  RECENCY_BIAS: 'RECENCY_BIAS',
  RANDOM: 'RANDOM',
  ONLINE_BATCH: 'ONLINE_BATCH',
  ACTIVE_BIAS: 'ACTIVE_BIAS',
} as const;

export type Strategy =
  | 'RECENCY_BIAS'
  | 0
  | 'RANDOM'
  | 1
  | 'ONLINE_BATCH'
  | 2
  | 'ACTIVE_BIAS'
  | 3

export type Strategy__Output = typeof Strategy[keyof typeof Strategy]

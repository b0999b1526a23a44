// Original file: proto/recency_sampler/v1/sampler.proto

export const Phase = {
  PHASE_UNSPECIFIED: 'PHASE_UNSPECIFIED',
  WARMUP: 'WARMUP',
  ADAPTIVE: 'ADAPTIVE',
  SHUFFLE: 'SHUFFLE',
} as const;

export type Phase =
  | 'PHASE_UNSPECIFIED'
  | 0
  | 'WARMUP'
  | 1
  | 'ADAPTIVE'
  | 2
  | 'SHUFFLE'
  | 3

export type Phase__Output = typeof Phase[keyof typeof Phase]

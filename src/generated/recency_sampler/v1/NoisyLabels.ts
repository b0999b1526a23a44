// Original file: proto/recency_sampler/v1/sampler.proto

export const NoisyLabels = {
  NOISY_LABELS_IGNORE: 'NOISY_LABELS_IGNORE',
  NOISY_LABELS_EXCLUDE: 'NOISY_LABELS_EXCLUDE',
  NOISY_LABELS_REFURBISH: 'NOISY_LABELS_REFURBISH',
} as const;

export type NoisyLabels =
  | 'NOISY_LABELS_IGNORE'
  | 0
  | 'NOISY_LABELS_EXCLUDE'
  | 1
  | 'NOISY_LABELS_REFURBISH'
  | 2

export type NoisyLabels__Output = typeof NoisyLabels[keyof typeof NoisyLabels]

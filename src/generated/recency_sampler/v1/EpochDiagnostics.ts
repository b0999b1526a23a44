// Original file: proto/recency_sampler/v1/sampler.proto


export interface EpochDiagnostics {
  'epoch'?: (number);
  'selectionPressure'?: (number | string);
  'effectiveSampleSizeRatio'?: (number | string);
  'uncertainShare'?: (number | string);
  'topDecileDrawShare'?: (number | string);
  'uniform'?: (boolean);
  'suspectedMislabeledShare'?: (number | string);
}

export interface EpochDiagnostics__Output {
  'epoch'?: (number);
  'selectionPressure'?: (number);
  'effectiveSampleSizeRatio'?: (number);
  'uncertainShare'?: (number);
  'topDecileDrawShare'?: (number);
  'uniform'?: (boolean);
  'suspectedMislabeledShare'?: (number);
}

// Epoch arithmetic and the selection-pressure schedule (spec sections 4 and 5).

export interface ScheduleConfig {
  readonly datasetSize: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly warmupEpochs: number;
  readonly initialPressure: number;
  readonly dropLast: boolean;
}

/** ceil(N / b), or floor(N / b) with drop_last, whatever the sampling (spec: notation). */
export function stepsPerEpoch(c: Pick<ScheduleConfig, 'datasetSize' | 'batchSize' | 'dropLast'>): number {
  return c.dropLast ? Math.floor(c.datasetSize / c.batchSize) : Math.ceil(c.datasetSize / c.batchSize);
}

export function totalSteps(c: ScheduleConfig): number {
  return stepsPerEpoch(c) * c.epochs;
}

/** s_e: 1 during warm-up, then s0^((E - 1 - e) / (E - g)), which reaches 1 at the last epoch. */
export function selectionPressure(epoch: number, c: ScheduleConfig): number {
  if (epoch < c.warmupEpochs) return 1;
  return c.initialPressure ** ((c.epochs - 1 - epoch) / (c.epochs - c.warmupEpochs));
}

// All per-sample state as CSV or JSON Lines, generated in chunks as the response is read, so an
// export of N = 10^6 samples never holds more than one chunk of text.
import { probabilities, sampleView, type SampleView } from '../service/sampler-inspection.js';
import type { InspectedSampler } from '../service/sampler-runtime.js';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const ROWS_PER_CHUNK = 2000;
const CSV_COLUMNS = [
  'index',
  'valid',
  'window',
  'uncertainty',
  'probability',
  'drawn',
  'last_reported_step',
  'latest_loss',
  'true_class_prob_reports',
  'true_class_prob_mean',
  'true_class_prob_std_hat',
] as const;

const cell = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));

function csvRow(s: SampleView): string {
  return [
    s.index,
    s.valid,
    s.window.join(' '), // space-separated labels, oldest first: no quoting needed
    s.uncertainty,
    cell(s.probability),
    s.drawn,
    cell(s.lastReportedStep),
    cell(s.latestLoss),
    cell(s.trueClassProb?.reports),
    cell(s.trueClassProb?.mean),
    cell(s.trueClassProb?.stdHat),
  ].join(',');
}

export async function* exportSamples(runtime: InspectedSampler, format: ExportFormat): AsyncGenerator<string> {
  const n = runtime.config.datasetSize;
  const probabilityOf = probabilities(runtime);
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
  for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
    const lines: string[] = [];
    const end = Math.min(n, start + ROWS_PER_CHUNK);
    for (let i = start; i < end; i++) {
      const view = sampleView(runtime, i, probabilityOf);
      lines.push(format === 'csv' ? csvRow(view) : JSON.stringify(view));
    }
    yield `${lines.join('\n')}\n`;
  }
}

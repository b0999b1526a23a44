// npm run demo: starts the service and drives it over gRPC with a simulated trainer whose
// predictions on every 10th sample keep flipping. Prints, per epoch, the phase, s_e and how
// often uncertain and settled samples were drawn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startApp } from '../src/app.js';
import { SamplerClient } from '../src/client/sampler-client.js';
import { isUncertain, predictBatch } from '../src/sim/synthetic-model.js';

const { values } = parseArgs({
  options: {
    'dataset-size': { type: 'string', default: '5000' },
    epochs: { type: 'string', default: '16' },
    'batch-size': { type: 'string', default: '100' },
    seed: { type: 'string', default: '0' },
    // Keep serving after the run, so the dashboard can be looked at.
    keep: { type: 'boolean', default: false },
  },
});
const config = {
  datasetSize: Number(values['dataset-size']),
  numClasses: 10,
  batchSize: Number(values['batch-size']),
  epochs: Number(values.epochs),
  window: 5,
  warmupEpochs: 4,
  initialPressure: 100,
  seed: Number(values.seed),
};
const model = { numClasses: 10, uncertainEvery: 10, seed: config.seed };

const dir = mkdtempSync(join(tmpdir(), 'recency-sampler-demo-'));
const app = await startApp(
  { host: '127.0.0.1', grpcPort: 0, httpPort: 0, db: join(dir, 'demo.db'), synchronous: 'NORMAL' },
  pino({ level: 'warn' }),
);
const client = new SamplerClient(`127.0.0.1:${app.grpcPort}`);
try {
  const sampler = await client.createSampler('demo', config);
  const uncertainCount = Math.ceil(config.datasetSize / model.uncertainEvery);
  const settledCount = config.datasetSize - uncertainCount;
  console.log(
    `Recency Bias demo: N = ${config.datasetSize}, k = 10, b = ${config.batchSize}, E = ${config.epochs}, ` +
      `q = ${config.window}, g = ${config.warmupEpochs}, s0 = ${config.initialPressure}.\n` +
      `The simulated model keeps changing its mind on ${uncertainCount} samples (every 10th) and is settled on the rest.\n` +
      `Service on 127.0.0.1:${app.grpcPort} (gRPC); dashboard on http://127.0.0.1:${app.httpPort}/; database in ${dir}.\n`,
  );
  console.log('epoch  phase      s_e    draws/uncertain  draws/settled  ratio');
  const started = performance.now();
  let step = 0;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    let uncertainDraws = 0;
    let settledDraws = 0;
    let phase = '';
    let pressure = 1;
    for (let s = 0; s < (sampler.stepsPerEpoch ?? 0); s++, step++) {
      const batch = await client.nextBatch({ sampler: 'demo', step });
      phase = batch.phase ?? '';
      pressure = batch.selectionPressure ?? 1;
      for (const i of batch.indices) if (isUncertain(model, i)) uncertainDraws++;
      else settledDraws++;
      await client.reportPredictions({ sampler: 'demo', step, indices: batch.indices, predictedLabels: predictBatch(model, batch.indices, step) });
    }
    const perUncertain = uncertainDraws / uncertainCount;
    const perSettled = settledDraws / settledCount;
    console.log(
      `${String(epoch).padStart(5)}  ${phase.padEnd(9)} ${pressure.toFixed(1).padStart(5)}  ${perUncertain.toFixed(2).padStart(15)}  ` +
        `${perSettled.toFixed(2).padStart(13)}  ${(perUncertain / perSettled).toFixed(1).padStart(5)}x`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\n${step} steps (NextBatch + ReportPredictions each) in ${seconds.toFixed(1)} s. During warm-up every sample is drawn ` +
      `once per epoch; afterwards uncertain samples are drawn up to ~s_e^F times as often as settled ones, and the ` +
      `pressure decays to uniform (s_e = 1) by the last epoch.`,
  );
  if (values.keep) {
    console.log(`\nStill serving: open http://127.0.0.1:${app.httpPort}/ for the dashboard; Ctrl-C stops.`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  client.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

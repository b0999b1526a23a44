// A running service fed by the simulated trainer, for the dashboard's browser test and screenshot.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../../src/app.js';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { trainSteps } from '../../src/sim/simulated-trainer.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DASHBOARD_CONFIG = { datasetSize: 5000, numClasses: 10, batchSize: 100, epochs: 12, window: 4, warmupEpochs: 3, seed: 3 };
export const MODEL = { numClasses: 10, uncertainEvery: 7, seed: 5 };

export interface Fixture {
  readonly app: RunningApp;
  readonly client: SamplerClient;
  close(): Promise<void>;
}

/** Starts the service and trains `steps` steps of sampler "fashion-demo" on 2 ranks. */
export async function fedService(db: string, steps: number): Promise<Fixture> {
  const app = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
  const client = new SamplerClient(`127.0.0.1:${app.grpcPort}`);
  await client.createSampler('fashion-demo', DASHBOARD_CONFIG);
  await trainSteps(client, 'fashion-demo', MODEL, 0, steps, 2);
  return {
    app,
    client,
    close: async () => {
      client.close();
      await app.close();
    },
  };
}

/** Headless Debian Chromium; never a downloaded browser. */
/** RS_TEST_SKIP=browser opts out of the browser tests on a machine without Chromium. */
export const SKIP_BROWSER = (process.env.RS_TEST_SKIP ?? '').split(',').includes('browser') && 'RS_TEST_SKIP=browser';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium), set CHROMIUM_PATH, or set RS_TEST_SKIP=browser`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

// NOISY_LABELS through the real protocol: reports carry dataset labels, batches of adaptive
// epochs carry the refurbished labels frozen at the epoch start (repeated and packed), the epoch
// history counts suspected samples, and a restart serves every batch with the same labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startApp } from '../../src/app.js';
import { SamplerClient } from '../../src/client/sampler-client.js';
import Database from 'better-sqlite3';
import { startTestServer } from '../helpers/server.js';
import { tempDbPath } from '../helpers/temp.js';

const N = 40;
const config = { datasetSize: N, numClasses: 5, batchSize: 8, epochs: 6, window: 2, warmupEpochs: 2, seed: 11 };
const STEPS = N / config.batchSize;
/** Samples 0..9 are labelled 0 in the data set but look like class 4: the model predicts 4. */
const mislabeled = (i: number) => i < 10;
const predict = (i: number) => (mislabeled(i) ? 4 : 0);

async function trainEpochs(client: SamplerClient, sampler: string, epochs: number[]) {
  const served: { step: number; indices: number[]; refurbished: number[] }[] = [];
  for (const epoch of epochs) {
    for (let step = epoch * STEPS; step < (epoch + 1) * STEPS; step++) {
      const batch = await client.nextBatch({ sampler, step });
      served.push({ step, indices: batch.indices, refurbished: batch.refurbishedLabels ?? [] });
      await client.reportPredictions({
        sampler,
        step,
        indices: batch.indices,
        predictedLabels: batch.indices.map(predict),
        datasetLabels: batch.indices.map(() => 0),
      });
    }
  }
  return served;
}

describe('NOISY_LABELS over gRPC', () => {
  it('REFURBISH: suspected samples come with their predicted class from the first adaptive epoch, identically after a restart', async (t) => {
    const db = tempDbPath(t);
    const app = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
    const client = new SamplerClient(`127.0.0.1:${app.grpcPort}`);
    let closed: Promise<void> | undefined;
    const close = () => (closed ??= (client.close(), app.close()));
    t.after(close);
    const created = await client.createSampler('refurbish', { ...config, noisyLabels: 'NOISY_LABELS_REFURBISH' });
    assert.equal(created.config?.noisyLabels, 'NOISY_LABELS_REFURBISH');

    const first = await client.nextBatch({ sampler: 'refurbish', step: 0 });
    await assert.rejects(
      client.reportPredictions({ sampler: 'refurbish', step: 0, indices: first.indices, predictedLabels: first.indices.map(predict) }),
      (e: { code?: number; details?: string }) => e.code === 9 && /^dataset_labels: the sampler uses noisy_labels REFURBISH/.test(e.details ?? ''),
    );
    await assert.rejects(
      client.reportPredictions({ sampler: 'refurbish', step: 0, indices: first.indices, predictedLabels: first.indices.map(predict), datasetLabels: first.indices.map(() => 5) }),
      (e: { code?: number; details?: string }) => e.code === 3 && /^dataset_labels\[0\]: must be an integer in \[0, num_classes = 5\), got 5/.test(e.details ?? ''),
    );

    const warmup = await trainEpochs(client, 'refurbish', [0, 1]);
    assert.ok(warmup.every((b) => b.refurbished.length === 0), 'warm-up batches carry no labels');
    const adaptive = await trainEpochs(client, 'refurbish', [2]);
    for (const { indices, refurbished } of adaptive) {
      assert.deepEqual(refurbished, indices.map((i) => (mislabeled(i) ? 4 : -1)), 'one label per index: the consensus, or -1');
    }
    const sampler = await client.getSampler('refurbish');
    const epoch2 = sampler.epochs?.find((e) => e.epoch === 2);
    assert.equal(epoch2?.suspectedMislabeledShare, 10 / N, 'every mislabeled sample was seen twice in warm-up');
    assert.equal(epoch2?.uniform, true, 'all windows agree with themselves: P is uniform (suspects are excluded, not favoured)');
    // The same over HTTP, and as a gauge of the current epoch.
    const http = `http://127.0.0.1:${app.httpPort}`;
    const history = (await (await fetch(`${http}/v1/samplers/refurbish/epochs`)).json()) as { epochs: { epoch: number; diagnostics: { suspectedMislabeledShare: number } }[] };
    assert.equal(history.epochs.find((e) => e.epoch === 2)?.diagnostics.suspectedMislabeledShare, 10 / N);
    assert.equal(history.epochs.find((e) => e.epoch === 0)?.diagnostics.suspectedMislabeledShare, 0);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    assert.match(metrics, /recency_sampler_suspected_mislabeled_share\{sampler="refurbish"\} 0\.25/);
    const detail = (await (await fetch(`${http}/v1/samplers/refurbish`)).json()) as { config: { noisyLabels: string } };
    assert.equal(detail.config.noisyLabels, 'REFURBISH');
    await close();

    // From the snapshot written at shutdown, then with no snapshot: replaying the log (dataset labels included).
    for (const recovery of ['snapshot', 'replay']) {
      if (recovery === 'replay') {
        const file = new Database(db);
        file.exec('DELETE FROM snapshot_parts; DELETE FROM snapshots;');
        file.close();
      }
      const restarted = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db, synchronous: 'NORMAL' }, pino({ level: 'silent' }));
      const again = new SamplerClient(`127.0.0.1:${restarted.grpcPort}`);
      try {
        for (const { step, indices, refurbished } of adaptive) {
          const batch = await again.nextBatch({ sampler: 'refurbish', step, packed: true });
          const labels = new Int32Array(Uint8Array.from(batch.packedRefurbishedLabels!).buffer);
          assert.deepEqual([...new Uint32Array(Uint8Array.from(batch.packedIndices!).buffer)], indices);
          assert.deepEqual([...labels], refurbished, `step ${step} after a restart from the ${recovery} (packed)`);
        }
        // The next epoch is frozen from the recovered suspicion: the same labels again.
        const next = await again.nextBatch({ sampler: 'refurbish', step: 3 * STEPS });
        assert.deepEqual(next.refurbishedLabels, next.indices.map((i) => (mislabeled(i) ? 4 : -1)), `epoch 3 after the ${recovery}`);
      } finally {
        again.close();
        await restarted.close();
      }
    }
  });

  it('EXCLUDE: a flipping mislabeled sample is drawn like a settled one, where IGNORE oversamples it', async (t) => {
    const { client } = await startTestServer(t);
    const draws: Record<string, number> = {};
    for (const mode of ['IGNORE', 'EXCLUDE'] as const) {
      const name = `mode-${mode.toLowerCase()}`;
      await client.createSampler(name, { ...config, epochs: 20, initialPressure: 1e6, noisyLabels: `NOISY_LABELS_${mode}` });
      // Warm-up: samples 0..9 predicted 4 (unanimous, not their label 0): suspected.
      await trainEpochs(client, name, [0, 1]);
      // Then they flip between 4 and 0 (memorizing the wrong label); the others stay settled.
      const seen = new Uint8Array(N); // each mislabeled sample alternates 0, 4, 0, ...: its window never agrees
      let mislabeledDraws = 0;
      for (let epoch = 2; epoch < 6; epoch++) {
        for (let step = epoch * STEPS; step < (epoch + 1) * STEPS; step++) {
          const { indices } = await client.nextBatch({ sampler: name, step });
          mislabeledDraws += indices.filter(mislabeled).length;
          await client.reportPredictions({
            sampler: name,
            step,
            indices,
            predictedLabels: indices.map((i) => (mislabeled(i) ? (seen[i]!++ % 2 === 0 ? 0 : 4) : 0)),
            datasetLabels: indices.map(() => 0),
          });
        }
      }
      draws[mode] = mislabeledDraws / (4 * STEPS * config.batchSize);
    }
    // 10 of 40 samples: a share of 0.25 when drawn like the others. IGNORE draws them far more
    // once they flip (s_e ~ 10^5 in these epochs); EXCLUDE keeps them at the certain samples' P.
    assert.ok(draws.EXCLUDE! < 0.35, `EXCLUDE: share of draws to mislabeled samples ${draws.EXCLUDE}`);
    assert.ok(draws.IGNORE! > 0.6, `IGNORE: share of draws to mislabeled samples ${draws.IGNORE}`);
  });

  it('is refused for other strategies, naming the field', async (t) => {
    const { client } = await startTestServer(t);
    await assert.rejects(
      client.createSampler('ob', { ...config, strategy: 'ONLINE_BATCH', noisyLabels: 'NOISY_LABELS_EXCLUDE' }),
      (e: { code?: number; details?: string }) => e.code === 3 && /^config\.noisy_labels: applies to RECENCY_BIAS only/.test(e.details ?? ''),
    );
  });
});

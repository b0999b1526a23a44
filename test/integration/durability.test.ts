// The real server process, killed with -9 mid-stream or stopped with SIGTERM, loses no
// acknowledged report and no served batch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { spawnServer, type ServerProcess } from '../helpers/server.js';
import { tempDbPath } from '../helpers/temp.js';

const config = { datasetSize: 2000, numClasses: 10, batchSize: 50, epochs: 10, window: 2, warmupEpochs: 2, seed: 3 };
const model = { numClasses: 10, uncertainEvery: 4, seed: 2 };

interface Traffic {
  served: Map<number, number[]>;
  acknowledged: Set<number>;
  attempted: Set<number>;
}

/** Serves steps and reports them with up to 8 reports in flight, until `stop()` says so. */
async function runTraffic(client: SamplerClient, stop: (t: Traffic) => boolean): Promise<Traffic> {
  const traffic: Traffic = { served: new Map(), acknowledged: new Set(), attempted: new Set() };
  const inFlight = new Set<Promise<void>>();
  for (let step = 0; step < 500 && !stop(traffic); step++) {
    const batch = await client.nextBatch({ sampler: 'job', step }).catch(() => undefined);
    if (!batch) break;
    traffic.served.set(step, batch.indices);
    traffic.attempted.add(step);
    const call = client
      .reportPredictions({ sampler: 'job', step, indices: batch.indices, predictedLabels: predictBatch(model, batch.indices, step) })
      .then(
        (r) => {
          assert.equal(r.duplicate, false);
          traffic.acknowledged.add(step);
        },
        () => undefined, // cut off by the shutdown: not acknowledged
      )
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return traffic;
}

async function checkAfterRestart(db: string, traffic: Traffic): Promise<ServerProcess> {
  const server = await spawnServer(db);
  const client = new SamplerClient(`127.0.0.1:${server.grpcPort}`);
  try {
    for (const [step, indices] of traffic.served) {
      assert.deepEqual((await client.nextBatch({ sampler: 'job', step })).indices, indices, `served batch of step ${step} changed`);
    }
    for (const step of traffic.attempted) {
      const indices = traffic.served.get(step)!;
      const again = await client.reportPredictions({ sampler: 'job', step, indices, predictedLabels: predictBatch(model, indices, step) });
      if (traffic.acknowledged.has(step)) assert.equal(again.duplicate, true, `acknowledged report of step ${step} was lost`);
    }
    // Every report sent is now in exactly once: none lost, none counted twice.
    assert.equal((await client.getSampler('job')).reportsReceived, traffic.attempted.size);
    const next = Math.max(...traffic.served.keys()) + 1;
    assert.equal((await client.nextBatch({ sampler: 'job', step: next })).step, next, 'serves on after the restart');
  } finally {
    client.close();
  }
  return server;
}

describe('durability of the real server process', () => {
  it('keeps every acknowledged report and served batch through kill -9 mid-stream', async (t) => {
    const db = tempDbPath(t);
    const first = await spawnServer(db, ['--snapshot-every', '3000']);
    const client = new SamplerClient(`127.0.0.1:${first.grpcPort}`);
    await client.createSampler('job', config);
    let killed = false;
    const traffic = await runTraffic(client, (tr) => {
      // Past the warm-up (an adaptive epoch is frozen) and a few snapshots, with reports in flight.
      if (!killed && tr.served.size === 130) {
        first.child.kill('SIGKILL');
        killed = true;
      }
      return false;
    });
    client.close();
    assert.equal(await first.exited, null, 'killed by a signal');
    assert.ok(traffic.acknowledged.size >= 100, `only ${traffic.acknowledged.size} reports acknowledged`);
    const second = await checkAfterRestart(db, traffic);
    second.child.kill('SIGKILL');
    await second.exited;
  });

  it('finishes calls in flight on SIGTERM, snapshots and closes cleanly', async (t) => {
    const db = tempDbPath(t);
    const first = await spawnServer(db);
    const client = new SamplerClient(`127.0.0.1:${first.grpcPort}`);
    await client.createSampler('job', config);
    const traffic = await runTraffic(client, (tr) => {
      if (tr.served.size === 60) first.child.kill('SIGTERM');
      return tr.served.size > 60;
    });
    client.close();
    assert.equal(await first.exited, 0);
    const messages = first.logs.map((l) => l.msg);
    assert.ok(messages.includes('shutting down') && messages.includes('closed'), messages.join(', '));
    assert.ok(traffic.acknowledged.size >= 50);
    const second = await checkAfterRestart(db, traffic);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });
});

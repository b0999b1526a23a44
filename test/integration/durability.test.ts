// The real server process, killed with -9 mid-stream or stopped with SIGTERM, loses no
// acknowledged report and no served batch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { Rng } from '../../src/core/random.js';
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

  it('after kill -9 at random instants, serves every received share again identically, with its split, counts draws once and takes every report', async (t) => {
    const db = tempDbPath(t);
    const config2 = { ...config, batchSize: 20, datasetSize: 400, epochs: 60 }; // 20 steps per epoch, 1,200 in all
    const received = new Map<string, number[]>(); // "step/rank" -> the share the client got
    const acknowledged = new Set<string>();
    const rng = new Rng(9);
    let next = 0; // the first step not yet received by both ranks
    for (let round = 0; round < 6; round++) {
      const server = await spawnServer(db, ['--snapshot-every', '700']);
      const client = new SamplerClient(`127.0.0.1:${server.grpcPort}`);
      if (round === 0) await client.createSampler('job', config2);
      // Kill at a random instant 20 to 400 ms into the traffic: mid-call, between calls, after a
      // batch was committed but before its answer left.
      setTimeout(() => server.child.kill('SIGKILL'), 20 + rng.nextInt(381));
      try {
        for (; ; next++) {
          const shares = await Promise.all([0, 1].map((rank) => client.nextBatch({ sampler: 'job', step: next, rank, worldSize: 2 })));
          shares.forEach((share, rank) => received.set(`${next}/${rank}`, share.indices));
          await Promise.all(
            shares.map(async (share, rank) => {
              const request = { sampler: 'job', step: next, rank, indices: share.indices, predictedLabels: predictBatch(model, share.indices, next) };
              // A duplicate only when the same report was committed just before the last kill.
              await client.reportPredictions(request);
              acknowledged.add(`${next}/${rank}`);
            }),
          );
        }
      } catch {
        // the kill: whatever was in flight is lost to the client
      }
      client.close();
      await server.exited;
    }
    const server = await spawnServer(db);
    const client = new SamplerClient(`127.0.0.1:${server.grpcPort}`);
    try {
      assert.ok(received.size > 40, `only ${received.size} shares received`);
      const global = new Map<number, number[]>();
      assert.ok(next + 1 < 1200, 'the traffic outran the run: kills must land mid-run');
      for (let step = 0; step <= next + 1; step++) {
        const shares = await Promise.all([0, 1].map((rank) => client.nextBatch({ sampler: 'job', step, rank, worldSize: 2 })));
        shares.forEach((share, rank) => {
          const before = received.get(`${step}/${rank}`);
          if (before) assert.deepEqual(share.indices, before, `step ${step} rank ${rank} changed`);
        });
        global.set(step, shares.flatMap((s) => s.indices));
        if (received.has(`${step}/0`) || received.has(`${step}/1`)) {
          await assert.rejects(client.nextBatch({ sampler: 'job', step, worldSize: 1 }), /split among 2 ranks/, `the split of step ${step} changed`);
        }
      }
      // Every share received is reported now and taken: acknowledged ones as duplicates (none
      // lost), the others either now or as duplicates of a commit whose answer the kill cut off.
      for (const [key, indices] of received) {
        const [step, rank] = key.split('/').map(Number) as [number, number];
        const result = await client.reportPredictions({ sampler: 'job', step, rank, indices, predictedLabels: predictBatch(model, indices, step) });
        if (acknowledged.has(key)) assert.equal(result.duplicate, true, `acknowledged report of ${key} was lost`);
      }
      const { reportsReceived } = await client.getSampler('job');
      assert.equal(Number(reportsReceived), received.size, 'every received share reported exactly once');
      // Draws counted once: each sample's count equals its appearances in the stored batches.
      const expected = new Array<number>(config2.datasetSize).fill(0);
      for (const indices of global.values()) for (const i of indices) expected[i]! += 1;
      const exported = await (await fetch(`http://127.0.0.1:${server.httpPort}/v1/samplers/job/export?format=jsonl`)).text();
      const drawn = exported.trim().split('\n').map((line) => (JSON.parse(line) as { drawn: number }).drawn);
      assert.deepEqual(drawn, expected);
      t.diagnostic(`${received.size} shares received over 6 kills, ${acknowledged.size} reports acknowledged`);
    } finally {
      client.close();
      server.child.kill('SIGTERM');
      await server.exited;
    }
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

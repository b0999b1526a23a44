// The service's state after a crash (no shutdown snapshot) equals an uninterrupted run's: the
// batches it draws next are identical, frozen epochs included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { SamplerService, type ServiceOptions } from '../../src/service/sampler-service.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { SqliteStorage } from '../../src/storage/sqlite-storage.js';
import { tempDbPath } from '../helpers/temp.js';

const log = pino({ level: 'silent' });
const base = { datasetSize: 300, numClasses: 5, batchSize: 30, epochs: 8, window: 3, warmupEpochs: 2, seed: 1 };
const config = base;
const model = { numClasses: 5, uncertainEvery: 4, seed: 9 };
const STEPS = 80; // 8 epochs of 10 steps

/** Serves `step` to 2 ranks and, lagging by `lag` steps, reports what they trained on. */
function drive(service: SamplerService, from: number, to: number, lag = 3): string[] {
  const served: string[] = [];
  for (let step = from; step < to; step++) {
    const shares = [0, 1].map((rank) => service.nextBatch({ sampler: 'run', step, rank, worldSize: 2 }));
    served.push(shares.map((s) => s.indices.join(',')).join('|'));
    const reported = step - lag;
    if (reported >= 0) {
      for (const rank of [0, 1]) {
        const { indices } = service.nextBatch({ sampler: 'run', step: reported, rank, worldSize: 2 });
        // Losses and true-class probabilities vary with sample and step, for the baselines.
        const signal = (i: number) => ((i * 7919 + reported * 104729) % 1000) / 1000;
        service.report({
          sampler: 'run',
          step: reported,
          rank,
          indices,
          predictedLabels: predictBatch(model, indices, reported),
          losses: Array.from(indices, (i) => 3 * signal(i)),
          trueClassProbs: Array.from(indices, signal), // (a typed map would truncate to integers)
        });
      }
    }
  }
  return served;
}

function inspectionState(service: SamplerService) {
  const runtime = service.inspect('run');
  return {
    drawn: [...runtime.state.activity.drawn],
    lastReported: [...runtime.state.activity.lastReported],
    batchesCounted: runtime.state.activity.batchesCounted,
    rankReports: [...runtime.state.rankReports.values()].sort((a, b) => a.rank - b.rank),
    epochs: [...runtime.epochStats.values()].map(({ startedAt: _, ...stats }) => stats).sort((a, b) => a.epoch - b.epoch),
  };
}

function open(path: string, options: ServiceOptions = {}) {
  const storage = new SqliteStorage(path);
  return { storage, service: new SamplerService(storage, log, options) };
}

const strategies = ['RECENCY_BIAS', 'ONLINE_BATCH', 'ACTIVE_BIAS'] as const;
for (const [strategy, snapshotEveryPredictions] of strategies.flatMap((s) => [[s, 1_000_000], [s, 170]] as const)) {
  describe(`${strategy}: recovery after a crash (snapshot every ${snapshotEveryPredictions} predictions)`, () => {
    for (const crashAt of [15, 34, 47]) {
      it(`continues exactly as an uninterrupted run after a crash at step ${crashAt}`, (t) => {
        const config = { ...base, strategy };
        const reference = open(tempDbPath(t), { snapshotEveryPredictions });
        reference.service.create('run', config);
        const expected = drive(reference.service, 0, STEPS);
        const expectedState = inspectionState(reference.service);
        reference.storage.close();

        const path = tempDbPath(t);
        const first = open(path, { snapshotEveryPredictions });
        first.service.create('run', config);
        const before = drive(first.service, 0, crashAt);
        first.storage.close(); // a crash: no shutdown snapshot, only what was committed
        const second = open(path, { snapshotEveryPredictions });
        // Steps served before the crash come back unchanged, then the run goes on identically.
        const replayed = [];
        for (let step = 0; step < crashAt; step++) {
          replayed.push([0, 1].map((rank) => second.service.nextBatch({ sampler: 'run', step, rank, worldSize: 2 }).indices.join(',')).join('|'));
        }
        assert.deepEqual(replayed, before);
        const after = drive(second.service, crashAt, STEPS);
        assert.deepEqual([...before, ...after], expected);
        // What the inspection API shows is recovered too: draw counts (from written batches),
        // last reported steps, reports per rank and the epoch history.
        assert.deepEqual(inspectionState(second.service), expectedState);
        second.storage.close();
      });
    }
  });
}

describe('reports across a restart', () => {
  it('after a crash right after serving, serves each step a client received identically, with its split, and accepts its reports', (t) => {
    const path = tempDbPath(t);
    const first = open(path);
    first.service.create('run', config);
    const served = [0, 1, 2, 3].map((step) => first.service.nextBatch({ sampler: 'run', step, rank: 1, worldSize: 2 }).indices);
    const drawn = [...first.service.inspect('run').state.activity.drawn];
    first.storage.close(); // a crash: nothing after the last answer was written
    const second = open(path);
    const report = (step: number) => ({ sampler: 'run', step, rank: 1, indices: served[step]!, predictedLabels: predictBatch(model, served[step]!, step) });
    assert.deepEqual(second.service.report(report(3)), { accepted: 15, duplicate: false });
    assert.deepEqual([...second.service.nextBatch({ sampler: 'run', step: 3, rank: 1, worldSize: 2 }).indices], [...served[3]!]);
    assert.throws(() => second.service.nextBatch({ sampler: 'run', step: 2, worldSize: 1 }), /step 2 was split among 2 ranks/);
    assert.deepEqual([...second.service.inspect('run').state.activity.drawn], drawn, 'draws counted once');
    // Steps never served are refused, in this epoch and the next.
    assert.throws(() => second.service.report({ ...report(3), step: 4 }), /step 4 has not been served/);
    assert.throws(() => second.service.report({ ...report(3), step: 10 }), /step 10 has not been served/);
    second.storage.close();
  });

  it('flags a report acknowledged before the restart as a duplicate after it', (t) => {
    const path = tempDbPath(t);
    const first = open(path);
    first.service.create('run', config);
    const { indices } = first.service.nextBatch({ sampler: 'run', step: 0 });
    const request = { sampler: 'run', step: 0, indices, predictedLabels: predictBatch(model, indices, 0) };
    assert.deepEqual(first.service.report(request), { accepted: 30, duplicate: false });
    first.storage.close();
    const second = open(path);
    assert.deepEqual(second.service.report(request), { accepted: 0, duplicate: true });
    second.storage.close();
  });
});

// Freezing ahead: once every share of an epoch is reported, the next epoch's P is frozen in idle
// time (the O(N) work the trainer would otherwise wait for at the epoch boundary), at the seq its
// first fetch would have frozen it at, so no batch changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { FrozenDistribution } from '../../src/core/distribution.js';
import { normalizeConfig } from '../../src/core/sampler-config.js';
import { shareOf } from '../../src/core/shares.js';
import { SamplerRuntime } from '../../src/service/sampler-runtime.js';
import { SamplerService } from '../../src/service/sampler-service.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';

// 10 steps an epoch; epochs 0 and 1 warm up, epoch 2 is the first adaptive one (steps 20..29).
const input = { datasetSize: 300, numClasses: 4, batchSize: 30, epochs: 5, window: 3, warmupEpochs: 2, seed: 6 };
const config = normalizeConfig(input);
const model = { numClasses: 4, uncertainEvery: 3, seed: 2 };
const WORLD = 2;

interface Run {
  readonly storage: MemoryStorage;
  readonly runtime: SamplerRuntime;
}

function start(): Run {
  const storage = new MemoryStorage();
  return { storage, runtime: SamplerRuntime.create(storage.insertSampler('f', config, 'x'), storage) };
}

/** As the service does: logged first (for a restart to replay), then applied. */
function report(run: Run, step: number, rank: number, indices: Uint32Array): number {
  const record = { step, rank, indices, labels: Uint32Array.from(predictBatch(model, indices, step)) };
  const [seq] = run.storage.appendReports([{ samplerId: run.runtime.stored.id, report: record }]);
  run.runtime.apply(seq!, record);
  return seq!;
}

/** Serves steps [from, to) to 2 ranks and reports every share, except those `skip` names. */
function train(run: Run, from: number, to: number, skip: (step: number, rank: number) => boolean = () => false): void {
  for (let step = from; step < to; step++) {
    const [batch] = run.runtime.serve([step], WORLD);
    for (let rank = 0; rank < WORLD; rank++) {
      if (skip(step, rank)) continue;
      report(run, step, rank, shareOf(batch!.indices, rank, WORLD));
    }
  }
}

const idle = (run: Run) => {
  while (run.runtime.predraw(8));
};
const epoch2 = (run: Run) => run.runtime.serve([20, 21, 22], WORLD).map((b) => b.indices.join(','));

describe('freezing ahead', () => {
  it('freezes the next epoch once every share is reported, at the last report, and changes no batch', () => {
    const reference = start(); // frozen by its first fetch, with no idle work at all
    train(reference, 0, 20);
    const expected = epoch2(reference);

    const run = start();
    train(run, 0, 20, (step, rank) => step === 19 && rank === 1);
    idle(run);
    assert.equal(run.runtime.state.held(2), undefined, 'one share of step 19 is missing: nothing is frozen');
    assert.equal(run.runtime.epochToFreeze, undefined);
    const last = report(run, 19, 1, shareOf(run.runtime.serve([19], WORLD)[0]!.indices, 1, WORLD));
    assert.equal(run.runtime.epochToFreeze, 2);
    idle(run);
    const frozen = run.runtime.state.held(2);
    assert.ok(frozen, 'the last share is in: epoch 2 is frozen before any of its steps is asked for');
    assert.deepEqual(run.storage.loadFreezes(run.runtime.stored.id).at(-1), { epoch: 2, seq: last }, 'its freeze point, at the last report');
    assert.deepEqual(epoch2(run), expected);
    assert.equal(run.runtime.state.held(2), frozen, 'the fetch used the distribution frozen ahead');
  });

  it('leaves the freeze to the first fetch when a share is never reported, and the batches are the same', () => {
    const reference = start();
    train(reference, 0, 20, (step, rank) => step === 13 && rank === 0);
    const expected = epoch2(reference);
    const run = start();
    train(run, 0, 20, (step, rank) => step === 13 && rank === 0);
    idle(run);
    assert.equal(run.runtime.state.held(2), undefined);
    assert.deepEqual(epoch2(run), expected);
  });

  it('is recovered from its freeze point: a restart before the first fetch serves the same batches', () => {
    const run = start();
    train(run, 0, 20);
    idle(run);
    // Recovered from the log and the freeze point written ahead: the same P, so the same batches.
    const recovered = SamplerRuntime.recover(run.storage.loadSamplers()[0]!, run.storage);
    assert.ok(recovered.state.held(2));
    const afterRestart = recovered.serve([20, 21, 22], WORLD).map((b) => b.indices.join(','));
    assert.deepEqual(epoch2(run), afterRestart);
  });

  it('compacts the older epoch only once the newest is being served, not at the epoch boundary', () => {
    const run = start();
    train(run, 0, 30);
    idle(run);
    assert.ok(run.runtime.state.held(3), 'epoch 3 frozen ahead');
    const older = run.runtime.state.held(2) as FrozenDistribution;
    assert.equal(run.runtime.compactIdle(), false, 'not between epoch 2\'s last report and epoch 3\'s first fetch');
    assert.equal(older.isCompact, false);
    run.runtime.serve([30], WORLD);
    // Units of quiet-time work: the held epochs' states stored (once each), then the compaction.
    let units = 0;
    while (run.runtime.compactIdle()) assert.ok(++units <= 3, 'more units than two stores and a compaction');
    assert.equal(older.isCompact, true, 'epoch 2 kept in 2N bytes once epoch 3 is served');
    assert.deepEqual(run.storage.storedEpochStates(run.runtime.stored.id), [2, 3]);
  });

  it('is scheduled by the service after the report that completes an epoch', async () => {
    const service = new SamplerService(new MemoryStorage(), pino({ level: 'silent' }));
    service.create('s', input);
    const turns = async () => {
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    for (let step = 0; step < 20; step++) {
      const { indices } = service.nextBatch({ sampler: 's', step });
      await turns(); // the idle work a fetch schedules is over before its report arrives
      service.report({ sampler: 's', step, indices, predictedLabels: predictBatch(model, indices, step) });
    }
    assert.equal(service.inspect('s').state.held(2), undefined, 'not within the report call');
    // grpc-js writes an answer out over the turns after it (scripts/bench/idle-after-answer.ts):
    // an O(N) freeze in the first two would hold the report's answer back, which the trainer
    // waits for at the epoch boundary.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(service.inspect('s').state.held(2), undefined, 'not in the two turns after the answer');
    await turns();
    assert.ok(service.inspect('s').state.held(2), 'frozen in the turns after that');
  });
});

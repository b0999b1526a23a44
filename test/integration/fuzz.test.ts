// A seeded fuzz of the gRPC API against the real server: 5,000 calls mixing valid and invalid
// fields. No call may end in INTERNAL or UNKNOWN (an error the service did not anticipate), and a
// rejected call must leave everything a client can see exactly as it was.
import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SamplerClient } from '../../src/client/sampler-client.js';
import { Rng } from '../../src/core/random.js';
import { startTestServer } from '../helpers/server.js';
import { stateHash } from '../helpers/state-hash.js';

const CALLS = 5000;
const base = { datasetSize: 60, numClasses: 4, batchSize: 6, epochs: 6, window: 2, warmupEpochs: 1 };
const SAMPLERS: Record<string, Parameters<SamplerClient['createSampler']>[1]> = {
  s: base,
  o: { ...base, strategy: 'ONLINE_BATCH' },
  a: { ...base, strategy: 'ACTIVE_BIAS', activeBiasMode: 'REWEIGHT' as never },
  r: { ...base, noisyLabels: 'NOISY_LABELS_REFURBISH' },
};
const NAMES = [...Object.keys(SAMPLERS), 'f-1', 'f-2', '', 'no such', 'x'.repeat(200)];

describe('fuzzing the gRPC API', () => {
  it(`answers ${CALLS} seeded calls without INTERNAL, and every rejected call changes nothing`, async (t) => {
    const { app, client } = await startTestServer(t);
    for (const [name, config] of Object.entries(SAMPLERS)) await client.createSampler(name, config);
    const rng = new Rng(20261130);
    const int = (n: number) => rng.nextInt(n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    // Served batches (rank 0 of world size 1 or 2), so that many reports are valid or nearly.
    const served = new Map<string, { step: number; indices: number[] }>();

    const number = () => pick([0, 1, 2, 3, 5, 6, 7, 11, 35, 36, 59, 60, 64, 65, 1000, 2 ** 31, 2 ** 32 - 1, int(70)]);
    const float = () => pick([0, 0.5, 1, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e30, rng.nextFloat()]);
    const array = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
    const bytes = () => Buffer.from(array(pick([0, 3, 4, 8, 24, 25]), () => int(256)));
    const report = () => {
      const known = [...served.entries()];
      const [key, batch] = known.length > 0 && int(3) > 0 ? pick(known) : ['s', { step: number(), indices: array(int(8), () => number()) }];
      const name = int(10) > 0 ? key.split('/')[0]! : pick(NAMES);
      let indices = [...batch.indices];
      if (int(4) === 0) indices = indices.concat(array(int(3), () => pick(indices.length ? indices : [0]))); // repeats
      if (int(4) === 0) indices = indices.slice(0, int(indices.length + 1)); // a part
      if (int(6) === 0) indices.push(number()); // a stranger
      const n = indices.length;
      const labels = () => array(int(8) === 0 ? int(n + 2) : n, () => (int(10) === 0 ? number() : int(4)));
      const floats = (ok: () => number) => (int(3) === 0 ? [] : array(int(8) === 0 ? int(n + 2) : n, () => (int(8) === 0 ? float() : ok())));
      const packed = int(4) === 0;
      return {
        sampler: name,
        step: int(8) === 0 ? number() : batch.step,
        rank: int(6) === 0 ? number() : 0,
        worldSize: pick([0, 0, 1, 2, number()]),
        ...(packed
          ? { packedIndices: int(5) === 0 ? bytes() : Buffer.from(Uint32Array.from(indices).buffer), packedPredictedLabels: bytes() }
          : { indices, predictedLabels: labels() }),
        losses: floats(() => rng.nextFloat() * 3),
        trueClassProbs: floats(() => rng.nextFloat()),
        ...(int(4) === 0 ? { packedDatasetLabels: bytes() } : { datasetLabels: int(3) === 0 ? [] : labels() }),
      };
    };
    const calls: [string, (c: SamplerClient) => Promise<unknown>][] = [
      ['NextBatch', async (c) => {
        const request = { sampler: int(8) === 0 ? pick(NAMES) : pick(Object.keys(SAMPLERS)), step: int(5) === 0 ? number() : int(36), rank: int(5) === 0 ? number() : 0, worldSize: pick([0, 1, 2, number()]), packed: int(2) === 0 };
        const batch = await c.nextBatch(request);
        if (request.rank === 0) served.set(`${request.sampler}/${batch.step}/${request.worldSize}`, { step: Number(batch.step), indices: request.packed ? [...new Uint32Array(new Uint8Array(batch.packedIndices!).buffer)] : batch.indices });
      }],
      ['NextBatches', (c) => c.nextBatches({ sampler: pick(NAMES), step: number(), count: pick([0, 1, 2, 5, 64, 65, number()]), rank: int(4) === 0 ? number() : 0, worldSize: pick([0, 1, 2, number()]), packed: int(2) === 0 })],
      ['ReportPredictions', (c) => c.reportPredictions(report())],
      ['ReportPredictionsBulk', (c) => c.reportPredictionsBulk(array(pick([0, 1, 2, 3]), report))],
      ['CreateSampler', (c) => c.createSampler(pick(['f-1', 'f-2', ...NAMES]), {
        datasetSize: number(), numClasses: number(), batchSize: number(), epochs: pick([1, 2, 3, number()]),
        ...(int(2) === 0 ? { window: number() } : {}), ...(int(2) === 0 ? { warmupEpochs: number() } : {}),
        ...(int(3) === 0 ? { initialPressure: float() * 1e3 } : {}), strategy: pick(['RECENCY_BIAS', 'RANDOM', 'ONLINE_BATCH', 'ACTIVE_BIAS', 7 as never]),
        ...(int(4) === 0 ? { noisyLabels: pick(['NOISY_LABELS_EXCLUDE', 'NOISY_LABELS_REFURBISH', 9 as never]) } : {}),
      })],
      ['GetSampler', (c) => c.getSampler(pick(NAMES))],
      ['DeleteSampler', (c) => c.deleteSampler(pick(['f-1', 'f-2', '', 'no such']))],
    ];
    const everything = async () => `${await stateHash(app, Object.keys(SAMPLERS))} ${JSON.stringify(await client.listSamplers())}`;
    let state = await everything();
    const outcomes = new Map<string, number>();
    for (let i = 0; i < CALLS; i++) {
      const [method, call] = pick(calls);
      let code = 'OK';
      try {
        await call(client);
      } catch (error) {
        const e = error as ServiceError;
        code = status[e.code] ?? String(e.code);
        assert.ok(!['INTERNAL', 'UNKNOWN'].includes(code), `call ${i}, ${method}: ${code} ${e.details}`);
        assert.equal(await everything(), state, `call ${i}, ${method}, rejected with ${code} (${e.details}), changed the state`);
      }
      if (code === 'OK') state = await everything();
      outcomes.set(`${method} ${code}`, (outcomes.get(`${method} ${code}`) ?? 0) + 1);
    }
    t.diagnostic(JSON.stringify(Object.fromEntries([...outcomes].sort())));
    // The fuzz reached both sides of every method that can succeed.
    for (const method of ['NextBatch', 'NextBatches', 'ReportPredictions', 'ReportPredictionsBulk', 'CreateSampler']) {
      assert.ok(outcomes.get(`${method} OK`), `no ${method} succeeded`);
      assert.ok([...outcomes.keys()].some((k) => k.startsWith(method) && !k.endsWith(' OK')), `no ${method} failed`);
    }
  });
});

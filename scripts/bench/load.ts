// Load generator, run as its own process so it does not share the server's event loop. Makes
// `calls` unary calls over `channels` connections with `depth` calls in flight on each, and
// prints one JSON line: latency percentiles (ms) and throughput (calls/s).
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { MAX_MESSAGE_BYTES, samplerProto } from '../../src/proto.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { loadEcho } from './echo-server.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    service: { type: 'string' }, // sampler | echo
    method: { type: 'string' }, // next | nexts (NextBatches) | report
    packed: { type: 'string', default: 'false' }, // 'true': ask for (and report in) the packed fields
    count: { type: 'string', default: '16' }, // steps per NextBatches call
    sampler: { type: 'string', default: 'bench' },
    'first-step': { type: 'string', default: '0' },
    calls: { type: 'string' },
    channels: { type: 'string', default: '4' },
    depth: { type: 'string', default: '1' },
    'report-size': { type: 'string', default: '1024' },
    'dataset-size': { type: 'string', default: '1000000' },
  },
});
const calls = Number(values.calls);
const channels = Number(values.channels);
const depth = Number(values.depth);
const firstStep = Number(values['first-step']);
const reportSize = Number(values['report-size']);
const datasetSize = Number(values['dataset-size']);
const count = Number(values.count);
const packed = values.packed === 'true';

const Ctor = values.service === 'echo' ? loadEcho() : (samplerProto().recency_sampler.v1.SamplerService as unknown as grpc.ServiceClientConstructor);
const clients = Array.from(
  { length: channels },
  // A distinct option per client gives each its own connection.
  (_, i) => new Ctor(values.target!, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': MAX_MESSAGE_BYTES, 'bench.channel': i }),
);
await Promise.all(clients.map((c) => new Promise<void>((res, rej) => c.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res())))));

interface Report {
  readonly indices: number[];
  readonly labels: number[];
  readonly packedIndices: Buffer;
  readonly packedLabels: Buffer;
}
const reportOf = (indices: number[], step: number): Report => {
  const labels = predictBatch({ numClasses: 10, uncertainEvery: 4, seed: 1 }, indices, step);
  return { indices, labels, packedIndices: Buffer.from(Uint32Array.from(indices).buffer), packedLabels: Buffer.from(Uint32Array.from(labels).buffer) };
};
// The echo gets arrays of the same size every time. The service checks that a report names the
// indices its step served: those are fetched before the clock starts.
const synthetic = reportOf(Array.from({ length: reportSize }, (_, i) => (i * 7919) % datasetSize), 0);
const served = new Map<number, Report>();
if (values.method === 'report' && values.service === 'sampler') {
  const fetch = (clients[0] as unknown as Record<string, (r: object, cb: (e: Error | null, r?: { batches: { step: string | number; packedIndices: Buffer }[] }) => void) => void>).NextBatches!.bind(clients[0]);
  for (let step = firstStep; step < firstStep + calls; step += 64) {
    const request = { sampler: values.sampler, step, count: Math.min(64, firstStep + calls - step), rank: 0, worldSize: 1, packed: true };
    const response = await new Promise<{ batches: { step: string | number; packedIndices: Buffer }[] }>((resolve, reject) =>
      fetch(request, (e, r) => (e || !r ? reject(e) : resolve(r))),
    );
    for (const b of response.batches) {
      const bytes = Buffer.from(b.packedIndices);
      served.set(Number(b.step), reportOf([...new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)], Number(b.step)));
    }
  }
}

function request(n: number): object {
  if (values.method === 'next') return { sampler: values.sampler, step: firstStep + n, rank: 0, worldSize: 1, packed };
  if (values.method === 'nexts') return { sampler: values.sampler, step: firstStep + n * count, count, rank: 0, worldSize: 1, packed };
  const step = firstStep + n;
  const r = served.get(step) ?? synthetic;
  if (packed) return { sampler: values.sampler, step, rank: 0, packedIndices: r.packedIndices, packedPredictedLabels: r.packedLabels };
  return { sampler: values.sampler, step, rank: 0, indices: r.indices, predictedLabels: r.labels };
}
const rpc = ({ next: 'NextBatch', nexts: 'NextBatches', report: 'ReportPredictions' } as Record<string, string>)[values.method!]!;

const latencies = new Float64Array(calls);
let issued = 0;
let failures = 0;
const started = performance.now();
async function worker(client: grpc.Client): Promise<void> {
  const call = (client as unknown as Record<string, (r: object, cb: (e: Error | null) => void) => void>)[rpc]!.bind(client);
  while (issued < calls) {
    const n = issued++;
    const t0 = performance.now();
    await new Promise<void>((resolve) =>
      call(request(n), (e) => {
        if (e) failures++;
        latencies[n] = performance.now() - t0;
        resolve();
      }),
    );
  }
}
await Promise.all(clients.flatMap((c) => Array.from({ length: depth }, () => worker(c))));
const seconds = (performance.now() - started) / 1000;
const sorted = latencies.sort();
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
console.log(JSON.stringify({ p50: pct(0.5), p99: pct(0.99), throughput: calls / seconds, failures }));
for (const c of clients) c.close();

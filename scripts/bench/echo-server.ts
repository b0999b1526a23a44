// The transport floor: a gRPC server whose handlers do nothing but answer with a payload of the
// same size as the real service's.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { Uint32Slab } from '../../src/core/typed-slab.js';
import { MAX_MESSAGE_BYTES, PROTO_ROOT } from '../../src/proto.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

export function loadEcho(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync('echo.proto', {
    includeDirs: [BENCH_DIR, PROTO_ROOT],
    longs: Number,
    enums: String,
    defaults: false,
    arrays: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    recency_sampler: { bench: { Echo: grpc.ServiceClientConstructor } };
  };
  return pkg.recency_sampler.bench.Echo;
}

type BatchCall = { step?: number; packed?: boolean; count?: number };

export async function startEchoServer(batch: { indices: number[] }): Promise<{ port: number; close: () => void }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  const head = { epoch: 0, selectionPressure: 1, phase: 'ADAPTIVE', globalBatchSize: batch.indices.length };
  // The payload the real service sends: repeated indices, or (when asked) the packed bytes of a
  // Uint32Array, made per call as the service makes a drawn batch (a view on a shared buffer).
  const source = Uint32Array.from(batch.indices);
  const slab = new Uint32Slab();
  const packedCopy = () => {
    const indices = slab.take(source.length);
    indices.set(source);
    return Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength);
  };
  const reply = (r: BatchCall, step: number) => (r.packed ? { ...head, step, packedIndices: packedCopy() } : { ...head, step, indices: batch.indices });
  server.addService(loadEcho().service, {
    NextBatch: (call: grpc.ServerUnaryCall<BatchCall, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, reply(call.request, call.request.step ?? 0)),
    NextBatches: (call: grpc.ServerUnaryCall<BatchCall, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { batches: Array.from({ length: call.request.count ?? 1 }, (_, i) => reply(call.request, (call.request.step ?? 0) + i)) }),
    ReportPredictions: (call: grpc.ServerUnaryCall<{ indices: number[] }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { accepted: call.request.indices.length, duplicate: false }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, close: () => server.forceShutdown() };
}

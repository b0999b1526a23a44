// The transport floor: a gRPC server whose handlers do nothing but answer with a payload of the
// same size as the real service's.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
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

export async function startEchoServer(batch: { indices: number[] }): Promise<{ port: number; close: () => void }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  const reply = { ...batch, step: 0, epoch: 0, selectionPressure: 1, phase: 'ADAPTIVE', globalBatchSize: batch.indices.length };
  server.addService(loadEcho().service, {
    NextBatch: (call: grpc.ServerUnaryCall<{ step?: number }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { ...reply, step: call.request.step ?? 0 }),
    ReportPredictions: (call: grpc.ServerUnaryCall<{ indices: number[] }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { accepted: call.request.indices.length, duplicate: false }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, close: () => server.forceShutdown() };
}

// The gRPC adapter: decodes each call, makes one service call and encodes the answer. Every
// handler is wrapped so an exception becomes a status instead of taking the process down.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ActiveBiasMode, SamplerConfigInput } from '../core/sampler-config.js';
import type { Batch } from '../generated/recency_sampler/v1/Batch.js';
import type { CreateSamplerRequest__Output } from '../generated/recency_sampler/v1/CreateSamplerRequest.js';
import type { Sampler } from '../generated/recency_sampler/v1/Sampler.js';
import type { SamplerServiceHandlers } from '../generated/recency_sampler/v1/SamplerService.js';
import { MAX_MESSAGE_BYTES, samplerProto } from '../proto.js';
import type { BatchView, SamplerService, SamplerView } from '../service/sampler-service.js';
import { toServiceError } from './status.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Stops accepting calls, lets the ones in flight finish (up to graceMs), then closes. */
  close(graceMs?: number): Promise<void>;
}

function unary<Req, Res>(log: Logger, method: string, handle: (request: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, handle(call.request));
    } catch (error) {
      callback(toServiceError(error, log, method));
    }
  };
}

function encodeSampler(s: SamplerView): Sampler {
  const c = s.config;
  return {
    name: s.name,
    config: {
      datasetSize: c.datasetSize,
      numClasses: c.numClasses,
      batchSize: c.batchSize,
      epochs: c.epochs,
      strategy: c.strategy,
      window: c.window,
      initialPressure: c.initialPressure,
      warmupEpochs: c.warmupEpochs,
      seed: c.seed,
      dropLast: c.dropLast,
      activeBiasEpsilon: c.activeBiasEpsilon,
      activeBiasMode: `ACTIVE_BIAS_${c.activeBiasMode}`,
    },
    stepsPerEpoch: s.stepsPerEpoch,
    totalSteps: s.totalSteps,
    createdAt: s.createdAt,
    reportsReceived: s.reportsReceived,
    predictionsReceived: s.predictionsReceived,
  };
}

function encodeBatch(b: BatchView): Batch {
  return {
    indices: Array.from(b.indices),
    step: b.step,
    epoch: b.epoch,
    selectionPressure: b.selectionPressure,
    phase: b.phase,
    globalBatchSize: b.globalBatchSize,
    lossWeights: b.lossWeights ? Array.from(b.lossWeights) : [],
  };
}

/** The contract's enum spelling to the config's: ACTIVE_BIAS_REWEIGHT -> REWEIGHT. */
function decodeConfig(config: CreateSamplerRequest__Output['config']): SamplerConfigInput | undefined {
  if (!config) return undefined;
  const { activeBiasMode, ...rest } = config;
  // An enum number this version does not know arrives as a number; validation names it.
  const mode = typeof activeBiasMode === 'string' ? activeBiasMode.replace(/^ACTIVE_BIAS_/, '') : activeBiasMode;
  return { ...rest, activeBiasMode: mode as ActiveBiasMode | undefined };
}

export function samplerHandlers(service: SamplerService, log: Logger): SamplerServiceHandlers {
  return {
    CreateSampler: unary(log, 'CreateSampler', (r) => encodeSampler(service.create(r.name, decodeConfig(r.config)))),
    GetSampler: unary(log, 'GetSampler', (r) => encodeSampler(service.get(r.name))),
    ListSamplers: unary(log, 'ListSamplers', () => ({ samplers: service.list().map(encodeSampler) })),
    DeleteSampler: unary(log, 'DeleteSampler', (r) => {
      service.delete(r.name);
      return {};
    }),
    NextBatch: unary(log, 'NextBatch', (r) => encodeBatch(service.nextBatch(r))),
    ReportPredictions: unary(log, 'ReportPredictions', (r) => service.report(r)),
    NextBatches: unary(log, 'NextBatches', (r) => ({ batches: service.nextBatches(r).map(encodeBatch) })),
    ReportPredictionsBulk: unary(log, 'ReportPredictionsBulk', (r) => ({ results: service.reportMany(r.reports ?? []) })),
  };
}

export async function startGrpcServer(
  service: SamplerService,
  log: Logger,
  options: GrpcServerOptions,
): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(samplerProto().recency_sampler.v1.SamplerService.service, samplerHandlers(service, log));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

// The gRPC adapter: decodes each call, makes one service call and encodes the answer. Every
// handler is wrapped so an exception becomes a status instead of taking the process down.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ActiveBiasMode, NoisyLabels, SamplerConfigInput } from '../core/sampler-config.js';
import type { Batch } from '../generated/recency_sampler/v1/Batch.js';
import type { CreateSamplerRequest__Output } from '../generated/recency_sampler/v1/CreateSamplerRequest.js';
import type { Sampler } from '../generated/recency_sampler/v1/Sampler.js';
import type { SamplerServiceHandlers } from '../generated/recency_sampler/v1/SamplerService.js';
import { DEFAULT_MAX_REQUEST_MB, MAX_MESSAGE_BYTES, samplerProto } from '../proto.js';
import type { TlsFiles } from '../tls.js';
import type { ReportPredictionsRequest__Output } from '../generated/recency_sampler/v1/ReportPredictionsRequest.js';
import type { BatchView, ReportRequest, SamplerService, SamplerView } from '../service/sampler-service.js';
import { bearerCheck } from '../auth.js';
import { SamplerError } from '../core/errors.js';
import { pack, repeatedOrPacked } from './packed-arrays.js';
import { RequestDecoder } from './request-decoding.js';
import { statusName, toServiceError } from './status.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request accepted, in MiB (default DEFAULT_MAX_REQUEST_MB); larger ones are RESOURCE_EXHAUSTED, undecoded. */
  readonly maxRequestMb?: number | undefined;
  /** Serve over TLS with this certificate and key (else plaintext). */
  readonly tls?: TlsFiles | undefined;
  /** When set, every call must carry `authorization: Bearer <token>` metadata. */
  readonly token?: string | undefined;
  /** Told of every finished call: method, status name, seconds. */
  readonly onCall?: (method: string, code: string, seconds: number) => void;
}

interface CallContext {
  readonly log: Logger;
  readonly requests: RequestDecoder;
  /** Undefined when no token is set: then nothing is checked. */
  readonly authorized: ((authorization: string | undefined) => boolean) | undefined;
  readonly onCall: (method: string, code: string, seconds: number) => void;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Stops accepting calls, lets the ones in flight finish (up to graceMs), then closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * A handler that authorizes the call, then decodes its bytes (see request-decoding.ts), then
 * handles it; a handler may answer later through a promise (calls whose commit is shared).
 */
function unary<Req, Res>(context: CallContext, method: string, handle: (request: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Buffer, Res> {
  return (call, callback) => {
    const started = performance.now();
    const finish = (error: unknown, response?: Res) => {
      let code: grpc.status | undefined;
      if (error === undefined) {
        callback(null, response);
      } else {
        const status = toServiceError(error, context.log, method);
        code = status.code;
        callback(status);
      }
      context.onCall(method, statusName(code), (performance.now() - started) / 1000);
    };
    let answer: Res | Promise<Res>;
    try {
      const authorization = context.authorized && call.metadata.get('authorization')[0];
      if (context.authorized && !context.authorized(typeof authorization === 'string' ? authorization : undefined)) {
        throw new SamplerError('unauthenticated', 'authorization: a valid bearer token is required (metadata "authorization: Bearer <token>")');
      }
      answer = handle(context.requests.decode<Req>(method, call.request));
    } catch (error) {
      finish(error);
      return;
    }
    if (answer instanceof Promise) answer.then((response) => finish(undefined, response), (error: unknown) => finish(error));
    else finish(undefined, answer);
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
      noisyLabels: `NOISY_LABELS_${c.noisyLabels}`,
    },
    stepsPerEpoch: s.stepsPerEpoch,
    totalSteps: s.totalSteps,
    createdAt: s.createdAt,
    reportsReceived: s.reportsReceived,
    predictionsReceived: s.predictionsReceived,
    epochs: s.epochs.flatMap(({ epoch, pressure, diagnostics: d }) =>
      d
        ? [
            {
              epoch,
              selectionPressure: pressure,
              effectiveSampleSizeRatio: d.effectiveSampleSizeRatio,
              uncertainShare: d.uncertainShare,
              topDecileDrawShare: d.topDecileDrawShare,
              uniform: d.uniform,
              suspectedMislabeledShare: d.suspectedMislabeledShare ?? 0,
            },
          ]
        : [],
    ),
  };
}

/** A batch in the repeated fields, or (when the request asked for `packed`) in the packed ones. */
function encodeBatch(b: BatchView, packed: boolean | undefined): Batch {
  const head = { step: b.step, epoch: b.epoch, selectionPressure: b.selectionPressure, phase: b.phase, globalBatchSize: b.globalBatchSize };
  const { lossWeights, refurbishedLabels } = b;
  if (packed) {
    return {
      ...head,
      packedIndices: pack(b.indices),
      ...(lossWeights && { packedLossWeights: pack(lossWeights) }),
      ...(refurbishedLabels && { packedRefurbishedLabels: pack(refurbishedLabels) }),
    };
  }
  return {
    ...head,
    indices: Array.from(b.indices),
    lossWeights: lossWeights ? Array.from(lossWeights) : [],
    refurbishedLabels: refurbishedLabels ? Array.from(refurbishedLabels) : [],
  };
}

/** A report's arrays from whichever of the repeated and packed fields carry them. */
function decodeReport(r: ReportPredictionsRequest__Output): ReportRequest {
  return {
    sampler: r.sampler,
    step: r.step,
    rank: r.rank,
    worldSize: r.worldSize,
    indices: repeatedOrPacked('indices', r.indices, r.packedIndices, Uint32Array),
    predictedLabels: repeatedOrPacked('predicted_labels', r.predictedLabels, r.packedPredictedLabels, Uint32Array),
    losses: repeatedOrPacked('losses', r.losses, r.packedLosses, Float32Array),
    trueClassProbs: repeatedOrPacked('true_class_probs', r.trueClassProbs, r.packedTrueClassProbs, Float32Array),
    datasetLabels: repeatedOrPacked('dataset_labels', r.datasetLabels, r.packedDatasetLabels, Uint32Array),
  };
}

/** Errors inside a bulk request name their report: `reports[i].field`. */
function decodeReports(reports: readonly ReportPredictionsRequest__Output[]): ReportRequest[] {
  return reports.map((r, i) => {
    try {
      return decodeReport(r);
    } catch (error) {
      if (error instanceof SamplerError) throw new SamplerError(error.kind, `reports[${i}].${error.message}`);
      throw error;
    }
  });
}

/** The contract's enum spelling to the config's: ACTIVE_BIAS_REWEIGHT -> REWEIGHT, NOISY_LABELS_EXCLUDE -> EXCLUDE. */
function decodeConfig(config: CreateSamplerRequest__Output['config']): SamplerConfigInput | undefined {
  if (!config) return undefined;
  const { activeBiasMode, noisyLabels, ...rest } = config;
  // An enum number this version does not know arrives as a number; validation names it.
  const unprefixed = (value: unknown, prefix: string) => (typeof value === 'string' && value.startsWith(prefix) ? value.slice(prefix.length) : value);
  return {
    ...rest,
    activeBiasMode: unprefixed(activeBiasMode, 'ACTIVE_BIAS_') as ActiveBiasMode | undefined,
    noisyLabels: unprefixed(noisyLabels, 'NOISY_LABELS_') as NoisyLabels | undefined,
  };
}

/** Handlers for the service definition `requests.rawService`, whose requests arrive as bytes. */
function samplerHandlers(service: SamplerService, log: Logger, requests: RequestDecoder, options: Pick<GrpcServerOptions, 'token' | 'onCall'>) {
  type Request<M extends string> = SamplerServiceHandlers[M] extends grpc.handleUnaryCall<infer R, unknown> ? R : never;
  const context: CallContext = {
    log,
    requests,
    authorized: options.token ? bearerCheck(options.token) : undefined,
    onCall: options.onCall ?? (() => {}),
  };
  return {
    CreateSampler: unary(context, 'CreateSampler', (r: Request<'CreateSampler'>) => encodeSampler(service.create(r.name, decodeConfig(r.config)))),
    GetSampler: unary(context, 'GetSampler', (r: Request<'GetSampler'>) => encodeSampler(service.get(r.name))),
    ListSamplers: unary(context, 'ListSamplers', () => ({ samplers: service.list().map(encodeSampler) })),
    DeleteSampler: unary(context, 'DeleteSampler', (r: Request<'DeleteSampler'>) => {
      service.delete(r.name);
      return {};
    }),
    NextBatch: unary(context, 'NextBatch', async (r: Request<'NextBatch'>) => encodeBatch(await service.nextBatchGrouped(r), r.packed)),
    ReportPredictions: unary(context, 'ReportPredictions', (r: Request<'ReportPredictions'>) => service.report(decodeReport(r))),
    NextBatches: unary(context, 'NextBatches', async (r: Request<'NextBatches'>) => ({ batches: (await service.nextBatchesGrouped(r)).map((b) => encodeBatch(b, r.packed)) })),
    ReportPredictionsBulk: unary(context, 'ReportPredictionsBulk', (r: Request<'ReportPredictionsBulk'>) => ({ results: service.reportMany(decodeReports(r.reports ?? [])) })),
  };
}

export async function startGrpcServer(
  service: SamplerService,
  log: Logger,
  options: GrpcServerOptions,
): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': Math.floor((options.maxRequestMb ?? DEFAULT_MAX_REQUEST_MB) * 2 ** 20),
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  const requests = new RequestDecoder(samplerProto().recency_sampler.v1.SamplerService.service);
  server.addService(requests.rawService, samplerHandlers(service, log, requests, options));
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = options.tls
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
      : grpc.ServerCredentials.createInsecure();
    server.bindAsync(`${options.host}:${options.port}`, credentials, (error, bound) =>
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

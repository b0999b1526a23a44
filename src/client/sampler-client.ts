// A small promise-based TypeScript client for the service, used by the tests, the demo and the
// benchmark. It shares only the contract (src/proto.ts) with the server, never its code.
import * as grpc from '@grpc/grpc-js';
import type { Batch__Output } from '../generated/recency_sampler/v1/Batch.js';
import type { ListSamplersResponse__Output } from '../generated/recency_sampler/v1/ListSamplersResponse.js';
import type { NextBatchesRequest } from '../generated/recency_sampler/v1/NextBatchesRequest.js';
import type { NextBatchesResponse__Output } from '../generated/recency_sampler/v1/NextBatchesResponse.js';
import type { ReportPredictionsBulkResponse__Output } from '../generated/recency_sampler/v1/ReportPredictionsBulkResponse.js';
import type { NextBatchRequest } from '../generated/recency_sampler/v1/NextBatchRequest.js';
import type { ReportPredictionsRequest } from '../generated/recency_sampler/v1/ReportPredictionsRequest.js';
import type { ReportPredictionsResponse__Output } from '../generated/recency_sampler/v1/ReportPredictionsResponse.js';
import type { Sampler__Output } from '../generated/recency_sampler/v1/Sampler.js';
import type { SamplerConfig } from '../generated/recency_sampler/v1/SamplerConfig.js';
import type { SamplerServiceClient } from '../generated/recency_sampler/v1/SamplerService.js';
import { MAX_MESSAGE_BYTES, samplerProto } from '../proto.js';
import { tlsByAddress } from './tls-target.js';

export type { Sampler__Output as Sampler, SamplerConfig };

/** A batch as received; `indices` is always present (the proto loader fills empty repeated fields). */
export type Batch = Batch__Output & { indices: number[] };

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

export class SamplerClient {
  private readonly stub: SamplerServiceClient;

  /**
   * `tlsCa`: the PEM certificate(s) to trust for a service started with --tls-cert.
   * `retryTimeoutMs`: retry calls safe to repeat (all but deleteSampler) for up to this long on
   * UNAVAILABLE and on a full disk under the service (RESOURCE_EXHAUSTED from its storage), with
   * exponential backoff up to `maxBackoffMs` (default 1,000); 0, the default, fails at once.
   */
  constructor(
    target: string,
    options: { deadlineMs?: number; token?: string; tlsCa?: Buffer; retryTimeoutMs?: number; maxBackoffMs?: number } = {},
  ) {
    const Service = samplerProto().recency_sampler.v1.SamplerService;
    const tls = options.tlsCa ? tlsByAddress(target) : undefined;
    const credentials = options.tlsCa ? grpc.credentials.createSsl(options.tlsCa, null, null, tls?.verify) : grpc.credentials.createInsecure();
    this.stub = new Service(target, credentials, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      ...tls?.channelOptions,
    });
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.token = options.token;
    this.retryTimeoutMs = options.retryTimeoutMs ?? 0;
    this.maxBackoffMs = options.maxBackoffMs ?? 1000;
  }

  private readonly deadlineMs: number;
  private readonly token: string | undefined;
  private readonly retryTimeoutMs: number;
  private readonly maxBackoffMs: number;

  createSampler(name: string, config: SamplerConfig): Promise<Sampler__Output> {
    return this.call((cb) => this.stub.createSampler({ name, config }, this.metadata(), this.options(), cb));
  }

  getSampler(name: string): Promise<Sampler__Output> {
    return this.call((cb) => this.stub.getSampler({ name }, this.metadata(), this.options(), cb));
  }

  async listSamplers(): Promise<Sampler__Output[]> {
    const response = await this.call<ListSamplersResponse__Output>((cb) => this.stub.listSamplers({}, this.metadata(), this.options(), cb));
    return response.samplers ?? [];
  }

  async deleteSampler(name: string): Promise<void> {
    await this.call((cb) => this.stub.deleteSampler({ name }, this.metadata(), this.options(), cb), false);
  }

  async nextBatch(request: NextBatchRequest): Promise<Batch> {
    const batch = await this.call<Batch__Output>((cb) => this.stub.nextBatch(request, this.metadata(), this.options(), cb));
    return { ...batch, indices: batch.indices ?? [] };
  }

  reportPredictions(request: ReportPredictionsRequest): Promise<ReportPredictionsResponse__Output> {
    return this.call((cb) => this.stub.reportPredictions(request, this.metadata(), this.options(), cb));
  }

  async nextBatches(request: NextBatchesRequest): Promise<Batch[]> {
    const response = await this.call<NextBatchesResponse__Output>((cb) => this.stub.nextBatches(request, this.metadata(), this.options(), cb));
    return (response.batches ?? []).map((b) => ({ ...b, indices: b.indices ?? [] }));
  }

  async reportPredictionsBulk(reports: ReportPredictionsRequest[]): Promise<ReportPredictionsResponse__Output[]> {
    const response = await this.call<ReportPredictionsBulkResponse__Output>((cb) =>
      this.stub.reportPredictionsBulk({ reports }, this.metadata(), this.options(), cb),
    );
    return response.results ?? [];
  }

  /** Resolves once connected, or rejects after timeoutMs. */
  waitForReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stub.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve())),
    );
  }

  close(): void {
    this.stub.close();
  }

  /** Per-call metadata: the bearer token, when given (grpc-js allows call credentials only on TLS channels). */
  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
    return metadata;
  }

  private options(): grpc.CallOptions {
    return { deadline: Date.now() + this.deadlineMs };
  }

  private async call<T>(start: (callback: Callback<T>) => unknown, idempotent = true): Promise<T> {
    const giveUp = Date.now() + this.retryTimeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, this.maxBackoffMs)) {
      try {
        return await new Promise<T>((resolve, reject) => {
          start((error, value) => (error ? reject(error) : resolve(value as T)));
        });
      } catch (error) {
        const e = error as grpc.ServiceError;
        // Only the service's storage: gRPC's own RESOURCE_EXHAUSTED (a message over the limit) recurs.
        const waitable = e.code === grpc.status.UNAVAILABLE || (e.code === grpc.status.RESOURCE_EXHAUSTED && e.details.startsWith('storage:'));
        if (!idempotent || !waitable || Date.now() + delay > giveUp) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      }
    }
  }
}

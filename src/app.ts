// Builds the whole service from a config and a logger and returns its ports and close(). Tests
// call this directly; src/main.ts is the only file that touches the process.
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { startGrpcServer } from './grpc/grpc-server.js';
import { isLoopback } from './config.js';
import type { TlsFiles } from './tls.js';
import { buildHttpServer } from './http/http-server.js';
import { createMetrics } from './metrics.js';
import { SamplerService } from './service/sampler-service.js';
import { damaged, SqliteStorage, type Synchronous } from './storage/sqlite-storage.js';
import { TimedStorage } from './storage/timed-storage.js';

export interface AppConfig {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** SQLite file, or ':memory:' for a throwaway run. */
  readonly db: string;
  readonly synchronous: Synchronous;
  readonly snapshotEveryPredictions?: number | undefined;
  /** Bearer token required by gRPC and HTTP (but liveness, readiness and the dashboard's files). */
  readonly token?: string | undefined;
  /** Whether a non-loopback host may serve without a token (checked by src/config.ts; logged here). */
  readonly allowUnauthenticated?: boolean | undefined;
  /** PEM files: with both, gRPC and HTTP are served over TLS. */
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  /** Largest gRPC request accepted, in MiB (default DEFAULT_MAX_REQUEST_MB). */
  readonly maxMessageMb?: number | undefined;
  /** Caps the database file at this many MiB: writes past it fail as on a full disk. */
  readonly maxDbMb?: number | undefined;
}

export interface RunningApp {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly service: SamplerService;
  /** The HTTP server (tests use its inject()). */
  readonly http: FastifyInstance;
  /** Stop accepting, finish calls in flight, snapshot, close the database. */
  close(): Promise<void>;
}

export async function startApp(config: AppConfig, log: Logger): Promise<RunningApp> {
  const tls = readTls(config);
  const metrics = createMetrics();
  const sqlite = new SqliteStorage(config.db, {
    synchronous: config.synchronous,
    ...(config.maxDbMb === undefined ? {} : { maxPageCount: Math.max(1, Math.floor((config.maxDbMb * 2 ** 20) / 4096)) }),
  });
  const storage = new TimedStorage(sqlite, metrics.dbWrite);
  const started = performance.now();
  let service: SamplerService;
  try {
    service = new SamplerService(storage, log.child({ component: 'service' }), {
      ...(config.snapshotEveryPredictions === undefined ? {} : { snapshotEveryPredictions: config.snapshotEveryPredictions }),
      events: { reports: metrics.reports, batchServed: metrics.batchServed },
    });
  } catch (error) {
    try {
      sqlite.close();
    } catch {
      // closing a damaged file may fail too; the error that matters is the one above
    }
    throw damaged(config.db, error) ?? error;
  }
  metrics.watch(service);
  log.info({ db: config.db, ms: Math.round(performance.now() - started) }, 'database open, recovery done');
  let ready = true;
  const grpcServer = await startGrpcServer(service, log.child({ adapter: 'grpc' }), {
    host: config.host,
    port: config.grpcPort,
    maxRequestMb: config.maxMessageMb,
    tls,
    token: config.token,
    onCall: metrics.rpc,
  });
  const http = await buildHttpServer({ service, log, metrics, token: config.token, tls, ready: () => ready });
  await http.listen({ host: config.host, port: config.httpPort });
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  if (!config.token && !isLoopback(config.host)) {
    log.warn({ host: config.host }, `serving ${config.host} without a token (--allow-unauthenticated): anyone who reaches these ports can delete samplers`);
  }
  log.info({ host: config.host, grpcPort: grpcServer.port, httpPort }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    grpcPort: grpcServer.port,
    httpPort,
    service,
    http,
    close: () =>
      (closing ??= (async () => {
        ready = false;
        await Promise.all([grpcServer.close(), http.close()]);
        service.close();
        sqlite.close();
        log.info('closed');
      })()),
  };
}

/** The certificate and key, read once at start: a missing or unreadable file is a start-up error naming it. */
function readTls(config: AppConfig): TlsFiles | undefined {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${flag}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', config.tlsCert), key: read('--tls-key', config.tlsKey) };
}

// Builds the whole service from a config and a logger and returns its ports and close(). Tests
// call this directly; src/main.ts is the only file that touches the process.
import type { Logger } from 'pino';
import { startGrpcServer } from './grpc/grpc-server.js';
import { buildHttpServer } from './http/http-server.js';
import { SamplerService } from './service/sampler-service.js';
import { SqliteStorage, type Synchronous } from './storage/sqlite-storage.js';

export interface AppConfig {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** SQLite file, or ':memory:' for a throwaway run. */
  readonly db: string;
  readonly synchronous: Synchronous;
  readonly snapshotEveryPredictions?: number | undefined;
}

export interface RunningApp {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly service: SamplerService;
  /** Stop accepting, finish calls in flight, snapshot, close the database. */
  close(): Promise<void>;
}

export async function startApp(config: AppConfig, log: Logger): Promise<RunningApp> {
  const storage = new SqliteStorage(config.db, { synchronous: config.synchronous });
  const started = performance.now();
  const service = new SamplerService(storage, log.child({ component: 'service' }), {
    ...(config.snapshotEveryPredictions === undefined ? {} : { snapshotEveryPredictions: config.snapshotEveryPredictions }),
  });
  log.info({ db: config.db, ms: Math.round(performance.now() - started) }, 'database open, recovery done');
  const grpcServer = await startGrpcServer(service, log.child({ adapter: 'grpc' }), {
    host: config.host,
    port: config.grpcPort,
  });
  const http = buildHttpServer(service, log);
  await http.listen({ host: config.host, port: config.httpPort });
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  log.info({ host: config.host, grpcPort: grpcServer.port, httpPort }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    grpcPort: grpcServer.port,
    httpPort,
    service,
    close: () =>
      (closing ??= (async () => {
        await Promise.all([grpcServer.close(), http.close()]);
        service.close();
        storage.close();
        log.info('closed');
      })()),
  };
}

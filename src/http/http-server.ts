// The HTTP adapter (fastify). Read-only: no route writes. The inspection API and the dashboard
// come in their own issue; for now it answers liveness.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SamplerService } from '../service/sampler-service.js';

export function buildHttpServer(service: SamplerService, log: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: log.child({ adapter: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ status: 'ok', samplers: service.list().length }));
  return app;
}

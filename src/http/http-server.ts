// The HTTP adapter (fastify): a read-only JSON inspection API with its OpenAPI document,
// Prometheus metrics and the dashboard. No route writes; every write method gets 405.
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bearerCheck } from '../auth.js';
import type { Metrics } from '../metrics.js';
import type { SamplerService } from '../service/sampler-service.js';
import type { TlsFiles } from '../tls.js';
import { dashboardRoutes, isDashboardPath } from './dashboard-routes.js';
import { replyToError } from './http-errors.js';
import { inspectionRoutes } from './inspection-routes.js';
import * as schema from './schemas.js';

export interface HttpOptions {
  /** Serve HTTPS with this certificate and key (else HTTP). */
  readonly tls?: TlsFiles | undefined;
  readonly service: SamplerService;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Bearer token required on every route but liveness, readiness and the dashboard's files. */
  readonly token?: string | undefined;
  /** Whether the database is open and recovery done. */
  readonly ready: () => boolean;
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

export async function buildHttpServer(options: HttpOptions): Promise<FastifyInstance> {
  // Typed as the plain-HTTP instance: routes, hooks and inject() are the same over HTTPS.
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: options.log.child({ adapter: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown query parameters are an error (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'recency-sampler inspection API',
        description: 'Read-only views of every sampler: its progress, how uncertain the data set is, and each sample.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.token ? [{ bearer: [] }] : [],
    },
  });

  requireToken(app, options.token);
  app.setErrorHandler(replyToError);
  healthRoutes(app, options);
  inspectionRoutes(app, options.service);
  refuseWrites(app);
  dashboardRoutes(app);
  return app;
}

/** Every route but liveness, readiness and the dashboard's files needs the bearer token, when one is set. */
function requireToken(app: FastifyInstance, token: string | undefined): void {
  const authorized = bearerCheck(token);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path) || isDashboardPath(path) || authorized(request.headers.authorization)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'authorization: a valid bearer token is required' });
  });
}

function healthRoutes(app: FastifyInstance, { metrics, ready }: HttpOptions): void {
  app.get('/healthz', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async (_request, reply) =>
    ready() ? { ready: true } : reply.code(503).send({ ready: false }),
  );
  app.get('/metrics', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** The API is read-only: samplers change over gRPC. */
function refuseWrites(app: FastifyInstance): void {
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    schema: { hide: true },
    handler: async (_request, reply) => {
      reply.header('allow', 'GET, HEAD');
      return reply.code(405).send({ statusCode: 405, error: 'Method Not Allowed', message: 'the HTTP API is read-only; samplers change over gRPC' });
    },
  });
}

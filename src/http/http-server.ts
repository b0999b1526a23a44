// The HTTP adapter (fastify): a read-only JSON inspection API with its OpenAPI document,
// Prometheus metrics and the dashboard. No route writes; every write method gets 405.
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { bearerCheck } from '../auth.js';
import { SamplerError } from '../core/errors.js';
import { ERROR_TABLE, knownError } from '../error-table.js';
import type { TlsFiles } from '../tls.js';
import { STATUS_CODES } from 'node:http';
import type { Metrics } from '../metrics.js';
import {
  epochHistory,
  samplePage,
  samplerDetail,
  samplerSummary,
  sampleView,
  probabilities,
  type SampleOrder,
} from '../service/sampler-inspection.js';
import type { SamplerService } from '../service/sampler-service.js';
import { dashboardRoutes, isDashboardPath } from './dashboard-routes.js';
import { exportSamples, type ExportFormat } from './sample-export.js';
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
  const { service, metrics } = options;
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

  const authorized = bearerCheck(options.token);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path) || isDashboardPath(path) || authorized(request.headers.authorization)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'authorization: a valid bearer token is required' });
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = knownError(error);
    if (known) {
      const { http, reason } = ERROR_TABLE[known.kind];
      if (http === 503) reply.header('retry-after', '1');
      return reply.code(http).send({ statusCode: http, error: reason, message: known.message });
    }
    if (error.validation) {
      // ajv says "querystring must NOT have additional properties"; name the parameter instead.
      const unknown = error.validation.find((v) => v.keyword === 'additionalProperties')?.params['additionalProperty'];
      const message = unknown === undefined ? error.message : `${error.validationContext ?? 'request'}/${String(unknown)}: is not a known parameter`;
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message });
    }
    // Fastify's own client errors (unsupported media type 415, body too large 413, malformed
    // JSON 400) carry their status: they are the client's, not ours.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Bad Request', message: error.message });
    }
    request.log.error({ err: error, url: request.url }, 'internal error');
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'see the server log' });
  });

  const responses = (ok: object) => ({ 200: ok, 400: schema.errorBody, 401: schema.errorBody, 404: schema.errorBody });
  const tags = ['inspection'];

  app.get('/healthz', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async (_request, reply) =>
    options.ready() ? { ready: true } : reply.code(503).send({ ready: false }),
  );
  app.get('/metrics', { schema: { querystring: schema.noQuery, tags: ['health'] } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/samplers',
    { schema: { tags, querystring: schema.noQuery, response: responses({ type: 'object', properties: { samplers: { type: 'array', items: schema.samplerSummary } } }) } },
    async () => ({ samplers: service.list().map((s) => samplerSummary(service.inspect(s.name))) }),
  );
  app.get<{ Params: { name: string } }>(
    '/v1/samplers/:name',
    { schema: { tags, params: schema.samplerName, querystring: schema.noQuery, response: responses(schema.samplerDetail) } },
    async (request) => samplerDetail(service.inspect(request.params.name)),
  );
  app.get<{ Params: { name: string } }>(
    '/v1/samplers/:name/epochs',
    { schema: { tags, params: schema.samplerName, querystring: schema.noQuery, response: responses(schema.epochHistory) } },
    async (request) => epochHistory(service.inspect(request.params.name)),
  );
  app.get<{ Params: { name: string }; Querystring: { order: SampleOrder; limit: number; offset: number } }>(
    '/v1/samplers/:name/samples',
    { schema: { tags, params: schema.samplerName, querystring: schema.pageQuery, response: responses(schema.samplePage) } },
    async (request) => {
      const runtime = service.inspect(request.params.name);
      const { order, limit, offset } = request.query;
      const probabilityOf = probabilities(runtime);
      const samples = [...samplePage(runtime, order, offset, limit)].map((i) => sampleView(runtime, i, probabilityOf));
      return { order, offset, limit, total: runtime.config.datasetSize, samples };
    },
  );
  app.get<{ Params: { name: string; index: number } }>(
    '/v1/samplers/:name/samples/:index',
    { schema: { tags, params: schema.sampleParams, querystring: schema.noQuery, response: responses(schema.sampleView) } },
    async (request) => {
      const runtime = service.inspect(request.params.name);
      const { index } = request.params;
      const n = runtime.config.datasetSize;
      if (index >= n) throw new SamplerError('not_found', `index: sampler ${request.params.name} has samples 0 .. ${n - 1}, got ${index}`);
      return sampleView(runtime, index);
    },
  );
  app.get<{ Params: { name: string }; Querystring: { format: ExportFormat } }>(
    '/v1/samplers/:name/export',
    {
      schema: {
        tags,
        description: 'Every sample, streamed in index order: CSV (window as space-separated labels) or JSON Lines.',
        params: schema.samplerName,
        querystring: schema.exportQuery,
      },
    },
    async (request, reply) => {
      const runtime = service.inspect(request.params.name);
      const { format } = request.query;
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      reply.header('content-disposition', `attachment; filename="${runtime.stored.name}-samples.${format}"`);
      return reply.send(Readable.from(exportSamples(runtime, format)));
    },
  );

  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/*',
    schema: { hide: true },
    handler: async (_request, reply) => {
      reply.header('allow', 'GET, HEAD');
      return reply.code(405).send({ statusCode: 405, error: 'Method Not Allowed', message: 'the HTTP API is read-only; samplers change over gRPC' });
    },
  });
  dashboardRoutes(app);
  return app;
}

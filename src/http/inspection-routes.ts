// The read-only JSON views of samplers, with the schemas that document them in OpenAPI.
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { SamplerError } from '../core/errors.js';
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
import { exportSamples, type ExportFormat } from './sample-export.js';
import * as schema from './schemas.js';

export function inspectionRoutes(app: FastifyInstance, service: SamplerService): void {
  const responses = (ok: object) => ({ 200: ok, 400: schema.errorBody, 401: schema.errorBody, 404: schema.errorBody });
  const tags = ['inspection'];

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
}

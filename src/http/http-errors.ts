// Every HTTP error answer: request errors and storage failures through the one error table
// (src/error-table.ts), fastify's own client errors (415, 413, malformed JSON) with their 4xx,
// anything else 500 with a log line and no internals in the body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { ERROR_TABLE, knownError } from '../error-table.js';

export function replyToError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
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
}

// The one place errors become gRPC statuses (through src/error-table.ts). Unknown errors are INTERNAL with a log line and no
// internals in the message.
import { status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ERROR_TABLE, knownError } from '../error-table.js';

export function toServiceError(error: unknown, log: Logger, method: string): Partial<ServiceError> {
  const known = knownError(error);
  if (known) {
    if (known.kind === 'resource_exhausted' || known.kind === 'unavailable') log.warn({ method, err: error }, 'storage failed; call refused');
    else log.debug({ method, code: known.kind, err: known.message }, 'request rejected');
    return { code: ERROR_TABLE[known.kind].grpc, details: known.message };
  }
  log.error({ method, err: error }, 'internal error');
  return { code: status.INTERNAL, details: `internal error in ${method}; see the server log` };
}

export function statusName(code: status | undefined): string {
  return code === undefined ? 'OK' : (status[code] ?? String(code));
}

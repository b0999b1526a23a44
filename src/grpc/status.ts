// The one place errors become gRPC statuses. Unknown errors are INTERNAL with a log line and no
// internals in the message.
import { status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { SamplerError, type ErrorKind } from '../core/errors.js';

const GRPC_STATUS: Record<ErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  unimplemented: status.UNIMPLEMENTED,
  unauthenticated: status.UNAUTHENTICATED,
};

export function toServiceError(error: unknown, log: Logger, method: string): Partial<ServiceError> {
  if (error instanceof SamplerError) {
    log.debug({ method, code: error.kind, err: error.message }, 'request rejected');
    return { code: GRPC_STATUS[error.kind], details: error.message };
  }
  log.error({ method, err: error }, 'internal error');
  return { code: status.INTERNAL, details: `internal error in ${method}; see the server log` };
}

export function statusName(code: status | undefined): string {
  return code === undefined ? 'OK' : (status[code] ?? String(code));
}

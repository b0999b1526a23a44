// The one table that turns an error kind into a status for each protocol; the compiler checks it
// covers every kind, and test/unit/error-table.test.ts checks it row by row.
import { status } from '@grpc/grpc-js';
import { SamplerError, type ErrorKind } from './core/errors.js';
import { storageFailure } from './storage/storage-failure.js';

export const ERROR_TABLE: Record<ErrorKind, { readonly grpc: status; readonly http: number; readonly reason: string }> = {
  invalid_argument: { grpc: status.INVALID_ARGUMENT, http: 400, reason: 'Bad Request' },
  not_found: { grpc: status.NOT_FOUND, http: 404, reason: 'Not Found' },
  already_exists: { grpc: status.ALREADY_EXISTS, http: 409, reason: 'Conflict' },
  failed_precondition: { grpc: status.FAILED_PRECONDITION, http: 409, reason: 'Conflict' },
  unimplemented: { grpc: status.UNIMPLEMENTED, http: 501, reason: 'Not Implemented' },
  unauthenticated: { grpc: status.UNAUTHENTICATED, http: 401, reason: 'Unauthorized' },
  resource_exhausted: { grpc: status.RESOURCE_EXHAUSTED, http: 507, reason: 'Insufficient Storage' },
  unavailable: { grpc: status.UNAVAILABLE, http: 503, reason: 'Service Unavailable' },
};

/** A request error, or a storage failure a client can wait out; undefined for anything else (a bug). */
export function knownError(error: unknown): SamplerError | undefined {
  return error instanceof SamplerError ? error : storageFailure(error);
}

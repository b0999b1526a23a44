// Storage failures a client can wait out, as errors of their own kind: a full disk or a busy or
// failing file is not a bug in the request, and a retry that succeeds loses nothing (every call
// commits before it changes memory, so the failed attempt changed nothing).
import { SamplerError } from '../core/errors.js';

/** The SamplerError for an SQLite failure worth retrying, or undefined for any other error. */
export function storageFailure(error: unknown): SamplerError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  if (code === 'SQLITE_FULL') {
    return new SamplerError('resource_exhausted', `storage: the disk holding the database is full (${code}); nothing was recorded, and the call succeeds once there is space`);
  }
  if (/^SQLITE_(BUSY|LOCKED|IOERR)/.test(code)) {
    return new SamplerError('unavailable', `storage: the database is busy or failed an I/O operation (${code}); nothing was recorded: retry`);
  }
  return undefined;
}

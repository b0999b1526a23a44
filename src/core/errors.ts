// The closed set of errors the core and the service raise. Adapters map each kind to a protocol
// status in one table (src/error-table.ts), which the compiler checks is complete.

export const ERROR_KINDS = [
  'invalid_argument',
  'not_found',
  'already_exists',
  'failed_precondition',
  'unimplemented',
  'unauthenticated',
  /** Storage out of space: the same call succeeds once there is room again. */
  'resource_exhausted',
  /** Storage busy or failing I/O: retry. */
  'unavailable',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export class SamplerError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SamplerError';
  }
}

/** A bad request field: the message starts with the field's name as the contract spells it. */
export function invalidArgument(field: string, problem: string): SamplerError {
  return new SamplerError('invalid_argument', `${field}: ${problem}`);
}

export function failedPrecondition(field: string, problem: string): SamplerError {
  return new SamplerError('failed_precondition', `${field}: ${problem}`);
}

// One table turns every error kind into a gRPC status and an HTTP status; storage failures a
// client can wait out are classified into their own kinds, every other failure is a bug (none).
import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_KINDS, SamplerError } from '../../src/core/errors.js';
import { ERROR_TABLE, knownError } from '../../src/error-table.js';

// kind, gRPC status, HTTP status: what clients of either protocol are told, and retry on.
const EXPECTED = [
  ['invalid_argument', 'INVALID_ARGUMENT', 400],
  ['not_found', 'NOT_FOUND', 404],
  ['already_exists', 'ALREADY_EXISTS', 409],
  ['failed_precondition', 'FAILED_PRECONDITION', 409],
  ['unimplemented', 'UNIMPLEMENTED', 501],
  ['unauthenticated', 'UNAUTHENTICATED', 401],
  ['resource_exhausted', 'RESOURCE_EXHAUSTED', 507],
  ['unavailable', 'UNAVAILABLE', 503],
] as const;

const sqliteError = (code: string) => Object.assign(new Error(code.toLowerCase()), { code });

describe('the error table', () => {
  it('maps every kind, and only those, to its gRPC and HTTP status', () => {
    assert.deepEqual(EXPECTED.map(([kind]) => kind).sort(), [...ERROR_KINDS].sort());
    for (const [kind, grpc, http] of EXPECTED) {
      assert.equal(status[ERROR_TABLE[kind].grpc], grpc, kind);
      assert.equal(ERROR_TABLE[kind].http, http, kind);
    }
  });

  it('classifies storage failures: a full disk, a busy or failing file; anything else is not known', () => {
    const rows: [unknown, string | undefined][] = [
      [sqliteError('SQLITE_FULL'), 'resource_exhausted'],
      [sqliteError('SQLITE_BUSY'), 'unavailable'],
      [sqliteError('SQLITE_BUSY_SNAPSHOT'), 'unavailable'],
      [sqliteError('SQLITE_LOCKED'), 'unavailable'],
      [sqliteError('SQLITE_IOERR_WRITE'), 'unavailable'],
      [sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY'), undefined],
      [sqliteError('SQLITE_CORRUPT'), undefined],
      [new RangeError('Array buffer allocation failed'), undefined],
      [null, undefined],
      [new SamplerError('not_found', 'name: no sampler'), 'not_found'],
    ];
    for (const [error, kind] of rows) assert.equal(knownError(error)?.kind, kind, String(error));
    assert.match(knownError(sqliteError('SQLITE_FULL'))!.message, /^storage: the disk holding the database is full/);
  });
});

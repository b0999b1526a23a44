// The start-up line a person reads: addresses they can use, the database's full path, auth.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { banner } from '../../src/banner.js';

describe('start-up banner', () => {
  it('names the gRPC address, the dashboard URL, the database path and whether auth is on', () => {
    assert.equal(
      banner({ host: '127.0.0.1', grpcPort: 50051, httpPort: 8080, db: 'data/x.db' }),
      `recency-sampler ready: gRPC 127.0.0.1:50051, dashboard http://127.0.0.1:8080/, database ${resolve('data/x.db')}, auth off (no --token)`,
    );
    const wildcard = banner({ host: '0.0.0.0', grpcPort: 1, httpPort: 2, db: ':memory:', token: 'x'.repeat(16) });
    assert.match(wildcard, /gRPC localhost:1, dashboard http:\/\/localhost:2\/, database :memory: \(nothing kept after exit\), auth on \(bearer token\)$/);
    assert.match(banner({ host: '::1', grpcPort: 1, httpPort: 2, db: '/d' }), /gRPC \[::1\]:1, dashboard http:\/\/\[::1\]:2\//);
    assert.match(banner({ host: '127.0.0.1', grpcPort: 1, httpPort: 2, db: '/d', tlsCert: '/c.pem' }), /gRPC 127\.0\.0\.1:1 \(TLS\), dashboard https:\/\/127\.0\.0\.1:2\//);
  });
});

// Client mistakes over HTTP answer 4xx with a JSON body, never 500: an unsupported media type,
// malformed JSON, a body over the limit, a method the read-only API does not have.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestServer } from '../helpers/server.js';

describe('HTTP client errors', () => {
  it('answer 415, 400, 413 and 405 with the reason, and the server serves on', async (t) => {
    const { app } = await startTestServer(t);
    const url = `http://127.0.0.1:${app.httpPort}/v1/samplers`;
    const cases: [string, RequestInit, number, RegExp][] = [
      ['text/xml', { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' }, 415, /media type|content-type/i],
      ['malformed JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }, 400, /json/i],
      ['2 MB body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(2 * 2 ** 20)}"` }, 413, /too large/i],
      ['POST', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 405, /read-only/],
    ];
    for (const [name, init, code, message] of cases) {
      const response = await fetch(url, init);
      const body = (await response.json()) as { statusCode: number; message: string };
      assert.equal(response.status, code, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.statusCode, code, name);
      assert.match(body.message, message, name);
    }
    assert.equal((await fetch(`http://127.0.0.1:${app.httpPort}/healthz`)).status, 200);
  });
});

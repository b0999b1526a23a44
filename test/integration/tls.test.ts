// --tls-cert and --tls-key: gRPC and HTTP over TLS with a certificate the test makes. A client
// trusting it trains; a plaintext client or one trusting nothing is refused; HTTPS serves the API.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get } from 'node:https';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { predictBatch } from '../../src/sim/synthetic-model.js';
import { selfSignedCertificate } from '../helpers/self-signed.js';
import { startTestServer } from '../helpers/server.js';

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('TLS', () => {
  it('serves gRPC and HTTPS to clients that trust the certificate, and nothing in plaintext', async (t) => {
    const tls = await selfSignedCertificate(t);
    const { app, client } = await startTestServer(t, undefined, { tlsCert: tls.certPath, tlsKey: tls.keyPath, tlsCa: tls.cert });
    await client.createSampler('job', { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 3 });
    const { indices } = await client.nextBatch({ sampler: 'job', step: 0 });
    const report = await client.reportPredictions({ sampler: 'job', step: 0, indices, predictedLabels: predictBatch({ numClasses: 4, uncertainEvery: 2, seed: 1 }, indices, 0) });
    assert.equal(report.accepted, 10);
    // The client above connects by address (127.0.0.1); by name it works too.
    const byName = new SamplerClient(`localhost:${app.grpcPort}`, { deadlineMs: 3000, tlsCa: tls.cert });
    assert.equal((await byName.getSampler('job')).reportsReceived, 1);
    byName.close();

    for (const [name, other] of [
      ['plaintext', new SamplerClient(`127.0.0.1:${app.grpcPort}`, { deadlineMs: 3000 })],
      ['trusting nothing', new SamplerClient(`127.0.0.1:${app.grpcPort}`, { deadlineMs: 3000, tlsCa: Buffer.from('') })],
    ] as const) {
      await assert.rejects(other.getSampler('job'), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE, name);
      other.close();
    }

    const detail = await httpsGet(`https://127.0.0.1:${app.httpPort}/v1/samplers/job`, tls.cert);
    assert.equal(detail.status, 200);
    assert.equal((JSON.parse(detail.body) as { reportsReceived: number }).reportsReceived, 1);
    await assert.rejects(fetch(`https://127.0.0.1:${app.httpPort}/healthz`), 'a client that does not trust the certificate');
    await assert.rejects(fetch(`http://127.0.0.1:${app.httpPort}/healthz`), 'plain HTTP on the TLS port');
  });

  it('checks that the certificate names the address a client connects to', async (t) => {
    // Named for localhost only: trusted, but not for 127.0.0.1.
    const tls = await selfSignedCertificate(t, { withAddress: false });
    const { app } = await startTestServer(t, undefined, { tlsCert: tls.certPath, tlsKey: tls.keyPath });
    const byAddress = new SamplerClient(`127.0.0.1:${app.grpcPort}`, { deadlineMs: 3000, tlsCa: tls.cert });
    await assert.rejects(byAddress.listSamplers(), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /IP: 127\.0\.0\.1 is not in the cert's list/.test(e.details), 'by address');
    byAddress.close();
    const byName = new SamplerClient(`localhost:${app.grpcPort}`, { deadlineMs: 3000, tlsCa: tls.cert });
    assert.deepEqual(await byName.listSamplers(), []);
    byName.close();
  });
});

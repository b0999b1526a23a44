// Which targets get the IP-address treatment of src/client/tls-target.ts, and that it checks the
// certificate against the address.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { targetHost, tlsByAddress } from '../../src/client/tls-target.js';

describe('TLS targets', () => {
  it('finds the host of every target form', () => {
    assert.equal(targetHost('127.0.0.1:50051'), '127.0.0.1');
    assert.equal(targetHost('[::1]:50051'), '::1');
    assert.equal(targetHost('::1'), '::1');
    assert.equal(targetHost('dns:///sampler.internal:443'), 'sampler.internal');
    assert.equal(targetHost('dns://8.8.8.8/sampler.internal:443'), 'sampler.internal');
    assert.equal(targetHost('ipv4:10.0.0.7:50051'), '10.0.0.7');
    assert.equal(targetHost('localhost'), 'localhost');
  });

  it('leaves a host name alone and gives an address a placeholder SNI with an identity check on the address', () => {
    assert.deepEqual(tlsByAddress('sampler.internal:443'), { channelOptions: {}, verify: {} });
    const { channelOptions, verify } = tlsByAddress('10.0.0.7:50051');
    assert.equal(channelOptions['grpc.ssl_target_name_override'], 'ip-address.invalid');
    const cert = (ip: string) => ({ subject: { CN: 'x' }, subjectaltname: `IP Address:${ip}` }) as never;
    assert.equal(verify.checkServerIdentity!('ip-address.invalid', cert('10.0.0.7')), undefined);
    assert.match(String(verify.checkServerIdentity!('ip-address.invalid', cert('10.0.0.8'))), /10\.0\.0\.7/);
  });
});

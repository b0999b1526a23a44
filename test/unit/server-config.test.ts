// Server settings: flags over environment over defaults, and a configuration that would expose
// every RPC (DeleteSampler included) to the network without a token is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerConfig, SERVER_DEFAULTS } from '../../src/config.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseServerConfig(argv, env);
const TOKEN = 'a-token-of-at-least-16-characters';

describe('server config', () => {
  it('defaults to loopback without a token, and flags win over the environment', () => {
    const config = parse([]);
    assert.ok(config !== 'help');
    assert.equal(config.host, SERVER_DEFAULTS.host);
    assert.equal(config.token, undefined);
    const flagged = parse(['--grpc-port', '7000'], { RS_GRPC_PORT: '6000', RS_HTTP_PORT: '6001' });
    assert.ok(flagged !== 'help');
    assert.deepEqual([flagged.grpcPort, flagged.httpPort], [7000, 6001]);
  });

  it('refuses a non-loopback host without a token, naming the two ways out', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'trainer-node-7']) {
      assert.throws(() => parse(['--host', host]), new RegExp(`^Error: --host: ${host} is reachable from other machines.*set --token.*--allow-unauthenticated`));
      assert.throws(() => parse([], { RS_HOST: host }), /^Error: --host: /);
    }
  });

  it('serves a non-loopback host with a token, or when told to go without', () => {
    for (const [argv, env] of [
      [['--host', '0.0.0.0', '--token', TOKEN], {}],
      [['--host', '0.0.0.0'], { RS_TOKEN: TOKEN }],
      [['--host', '0.0.0.0', '--allow-unauthenticated'], {}],
      [['--host', '0.0.0.0'], { RS_ALLOW_UNAUTHENTICATED: '1' }],
    ] as const) {
      const config = parse([...argv], env);
      assert.ok(config !== 'help' && config.host === '0.0.0.0', `${argv.join(' ')} ${JSON.stringify(env)}`);
    }
  });

  it('counts every loopback spelling as loopback', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) assert.ok(parse(['--host', host]) !== 'help', host);
  });

  it('takes TLS as a certificate and a key together, never one alone', () => {
    const config = parse(['--tls-cert', 'c.pem', '--tls-key', 'k.pem']);
    assert.ok(config !== 'help' && config.tlsCert === 'c.pem' && config.tlsKey === 'k.pem');
    assert.throws(() => parse(['--tls-cert', 'c.pem']), /^Error: --tls-key: is required with --tls-cert/);
    assert.throws(() => parse([], { RS_TLS_KEY: 'k.pem' }), /^Error: --tls-cert: is required with --tls-key/);
  });

  it('takes a database cap in MiB and refuses one that is not positive', () => {
    const config = parse(['--max-db-mb', '512']);
    assert.ok(config !== 'help' && config.maxDbMb === 512);
    assert.throws(() => parse(['--max-db-mb', '0']), /^Error: --max-db-mb: must be > 0/);
  });
});

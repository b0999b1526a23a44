import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { MIN_NODE_MAJOR, unsupportedNode } from '../../src/node-version.js';

const DIST_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
/** Debian's Node (20 on the project's machines), when there is one older than the service needs. */
const OLD_NODE = (() => {
  if (!existsSync('/usr/bin/node')) return undefined;
  const version = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).stdout.trim();
  return unsupportedNode(version) ? '/usr/bin/node' : undefined;
})();

describe('the Node.js version', () => {
  it('accepts the LTS lines 22, 24 and 26 and later, and refuses older ones naming the version and the fix', () => {
    for (const version of ['v22.0.0', 'v22.23.3', 'v24.21.0', 'v25.1.0', 'v26.10.0']) assert.equal(unsupportedNode(version), undefined, version);
    for (const version of ['v20.20.2', 'v18.0.0', 'v21.7.3']) {
      const message = unsupportedNode(version);
      assert.ok(message?.includes(`Node.js ${MIN_NODE_MAJOR} or later`) && message.includes(version) && message.includes('npm ci'), message);
    }
    assert.ok(unsupportedNode(process.version) === undefined, 'the tests themselves run on a supported Node');
  });

  it('makes the built service refuse to start on an older Node with that message, exit code 1', { skip: OLD_NODE ? false : 'no older Node at /usr/bin/node here' }, () => {
    assert.ok(existsSync(DIST_MAIN), 'dist/main.js: run npm run build first');
    const run = spawnSync(OLD_NODE!, [DIST_MAIN, '--grpc-port', '0', '--http-port', '0', '--db', ':memory:'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 1, `exit status ${run.status}, signal ${run.signal}: ${run.stderr}`);
    assert.match(run.stderr, /^recency-sampler needs Node\.js 22 or later .* this is Node\.js v\d+/);
  });
});

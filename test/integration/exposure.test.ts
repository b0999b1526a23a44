// The real process on a non-loopback address: refused without a token, served with
// --allow-unauthenticated and a warning in its log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runServerToExit, spawnServer } from '../helpers/server.js';
import { tempDbPath } from '../helpers/temp.js';

describe('a service reachable from the network', () => {
  it('refuses to start on 0.0.0.0 without a token, and starts with --allow-unauthenticated, warning', async (t) => {
    const db = tempDbPath(t);
    const env = { ...process.env, RS_TOKEN: '', RS_ALLOW_UNAUTHENTICATED: '' };
    const refused = await runServerToExit(['--db', db, '--host', '0.0.0.0'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--host: 0\.0\.0\.0 is reachable from other machines/);

    const server = await spawnServer(db, ['--host', '0.0.0.0', '--allow-unauthenticated']);
    try {
      const warning = server.logs.find((entry) => entry.level === 40 && /without a token/.test(String(entry.msg)));
      assert.ok(warning, `no warning in ${JSON.stringify(server.logs.map((e) => e.msg))}`);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

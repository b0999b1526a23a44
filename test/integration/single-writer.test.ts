// One service per database file: a second one on the same file refuses to start, naming the file
// and the fix, and the first serves on. The lock dies with its process, kill -9 included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { runServerToExit, spawnServer } from '../helpers/server.js';
import { tempDbPath } from '../helpers/temp.js';

describe('one writer per database', () => {
  it('refuses a second service on the same file, and the first serves on; kill -9 frees the file', async (t) => {
    const db = tempDbPath(t);
    const first = await spawnServer(db);
    const client = new SamplerClient(`127.0.0.1:${first.grpcPort}`);
    t.after(() => client.close());
    await client.createSampler('job', { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 3 });
    const served = (await client.nextBatch({ sampler: 'job', step: 0 })).indices;

    const second = await runServerToExit(['--db', db]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`database ${db} is in use by another recency-sampler .*give this one another --db`));
    assert.doesNotMatch(second.stderr, /\n\s+at /, 'a refusal, not a crash: no stack trace');
    assert.deepEqual((await client.nextBatch({ sampler: 'job', step: 0 })).indices, served);
    assert.equal((await client.nextBatch({ sampler: 'job', step: 1 })).step, 1);

    first.child.kill('SIGKILL');
    await first.exited;
    const after = await spawnServer(db);
    const again = new SamplerClient(`127.0.0.1:${after.grpcPort}`);
    try {
      assert.deepEqual((await again.nextBatch({ sampler: 'job', step: 0 })).indices, served);
    } finally {
      again.close();
      after.child.kill('SIGTERM');
      await after.exited;
    }
  });
});

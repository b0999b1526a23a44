// What a person sees when starting the service: one human line on stderr with the real ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnServer } from '../helpers/server.js';
import { tempDbPath } from '../helpers/temp.js';
import { SamplerClient } from '../../src/client/sampler-client.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('start-up', () => {
  it('prints one line naming the gRPC address, the dashboard URL, the database and auth', async (t) => {
    const db = tempDbPath(t);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--grpc-port', '0', '--http-port', '0', '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const listening = new Promise<{ grpcPort: number; httpPort: number }>((resolve) =>
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; grpcPort: number; httpPort: number };
        if (entry.msg === 'listening') resolve(entry);
      }),
    );
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stderr! }).on('line', (l) => l.startsWith('recency-sampler ready:') && resolve(l)),
    );
    const { grpcPort, httpPort } = await listening;
    assert.equal(line, `recency-sampler ready: gRPC 127.0.0.1:${grpcPort}, dashboard http://127.0.0.1:${httpPort}/, database ${db}, auth off (no --token)`);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('exits on SIGTERM after whatever read its log went away (the log pipe broken)', async (t) => {
    const server = await spawnServer(tempDbPath(t));
    t.after(() => server.child.kill('SIGKILL'));
    server.child.stdout!.destroy(); // the log's reader is gone, as when a parent process dies
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM'); // its shutdown lines are the first to meet the broken pipe
    const exited = await Promise.race([server.exited, new Promise((resolve) => setTimeout(() => resolve('still running 10 s after SIGTERM'), 10_000))]);
    assert.equal(exited, 0);
  });
});

describe('npm start', () => {
  it('stops the service when npm itself gets SIGTERM (no node left listening)', async (t) => {
    const db = tempDbPath(t);
    // dist/ is built by `npm test` before the node tests; --ignore-scripts skips prestart's rebuild.
    const npm = spawn('npm', ['start', '--ignore-scripts', '--', '--grpc-port', '0', '--http-port', '0', '--db', db], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    t.after(() => npm.kill('SIGKILL'));
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: npm.stderr! }).on('line', (l) => l.startsWith('recency-sampler ready:') && resolve(l)),
    );
    const port = Number(/gRPC 127\.0\.0\.1:(\d+)/.exec(line)![1]);
    npm.kill('SIGTERM');
    await once(npm, 'exit');
    // The service is gone too: nothing accepts connections on its port any more.
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(false)));
      socket.on('error', () => resolve(true));
    });
    assert.ok(refused, `something still listens on ${port} after npm exited`);
  });
});

describe('a run that never selects', () => {
  it('is accepted, and the service says so in a warning naming the sampler', async (t) => {
    const server = await spawnServer(tempDbPath(t));
    t.after(() => server.child.kill('SIGKILL'));
    const client = new SamplerClient(`127.0.0.1:${server.grpcPort}`);
    t.after(() => client.close());
    await client.createSampler('two-epochs', { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 2 });
    await client.createSampler('three-epochs', { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const warnings = server.logs.filter((entry) => entry.level === 40).map((entry) => String(entry.msg));
    assert.deepEqual(warnings, [
      'sampler two-epochs will not select: every epoch is warm-up or the last (where s_e = 1) with epochs = 2 and ' +
        'warmup_epochs = 1: the batches are plain shuffles; lower warmup_epochs or train for more epochs to select',
    ]);
  });
});

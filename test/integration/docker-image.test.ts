// What CI can check of docker/Dockerfile without a Docker engine: the Dockerfile lints clean, and
// the runtime stage's file set, assembled exactly as its COPY instructions say (from the built
// tree, as the build stage leaves it), serves with the image's ENV and CMD, as an unprivileged
// user that cannot write the app tree: ready on the health check's path, the dashboard and its
// assets load, and a gRPC client trains a step.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DockerfileParser, type Copy, type Env } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { SamplerClient } from '../../src/client/sampler-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');

function runtimeStage() {
  const dockerfile = DockerfileParser.parse(DOCKERFILE);
  const stages = dockerfile.getFROMs();
  const last = stages[stages.length - 1]!;
  const after = (line: number) => line > last.getRange().start.line;
  const instructions = dockerfile.getInstructions().filter((i) => after(i.getRange().start.line));
  const workdir = instructions.find((i) => i.getKeyword() === 'WORKDIR')!.getArgumentsContent()!;
  const copies = instructions
    .filter((i): i is Copy => i.getKeyword() === 'COPY')
    .map((c) => {
      const [from, to] = c.getArguments().map((a) => a.getValue());
      assert.equal(c.getFromFlag()?.getValue(), 'build', 'the runtime stage copies from the build stage only');
      assert.doesNotMatch(c.getTextContent(), /--chown/, 'the app tree stays root-owned, read-only for the runtime user');
      return { from: relative(workdir, from!), to: to! };
    });
  const env = Object.fromEntries(
    instructions.filter((i): i is Env => i.getKeyword() === 'ENV').flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue() ?? ''])),
  );
  const cmd = JSON.parse(instructions.find((i) => i.getKeyword() === 'CMD')!.getArgumentsContent()!) as string[]; // exec form
  const health = /\/(readyz|healthz)\b/.exec(instructions.find((i) => i.getKeyword() === 'HEALTHCHECK')!.getTextContent())![0];
  const user = instructions.find((i) => i.getKeyword() === 'USER')?.getArgumentsContent();
  return { workdir, copies, env, cmd, health, user };
}

describe('docker/Dockerfile', () => {
  it('lints clean (dockerfile-utils, the validator of the Docker language server)', () => {
    const problems = validate(DOCKERFILE).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it('runs from the runtime file set it assembles, read-only, as a non-root user, ready on its health check path', async (t) => {
    const stage = runtimeStage();
    assert.equal(stage.user, 'node', 'the service runs as an unprivileged user');
    assert.equal(stage.health, '/readyz', 'the health check asks for readiness');
    const dir = mkdtempSync(join(tmpdir(), 'rs-image-'));
    t.after(() => {
      chmodSync(dir, 0o755);
      execFileSync('chmod', ['-R', 'u+w', dir]);
      rmSync(dir, { recursive: true, force: true });
    });
    const app = join(dir, 'app');
    for (const { from, to } of stage.copies) {
      const target = join(app, to);
      mkdirSync(dirname(target), { recursive: true });
      // node_modules as hard links: the same files, without copying 100 MB.
      if (from === 'node_modules') execFileSync('cp', ['-al', join(ROOT, from), target]);
      else cpSync(join(ROOT, from), target, { recursive: true });
    }
    execFileSync('chmod', ['-R', 'a-w', app]);
    chmodSync(dir, 0o755);
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o777 });
    chmodSync(data, 0o777);
    // As root (CI), drop to an unprivileged uid as USER does: root would ignore the read-only bits.
    // That user may not reach this node binary (e.g. under /root): run a link to it from the tree.
    const root = process.getuid?.() === 0;
    const asUser = root ? { uid: 65534, gid: 65534 } : {};
    const node = root ? join(dir, 'node') : process.execPath;
    if (root) {
      try {
        linkSync(process.execPath, node);
      } catch {
        cpSync(process.execPath, node);
      }
      chmodSync(node, 0o755);
    }
    const child = spawn(node, stage.cmd.slice(1), {
      cwd: app,
      env: { PATH: process.env.PATH, ...stage.env, RS_DB: join(data, 'db'), RS_GRPC_PORT: '0', RS_HTTP_PORT: '0', RS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asUser,
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; grpcPort: number; httpPort: number };
        if (entry.msg === 'listening') resolve(entry);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    const http = `http://127.0.0.1:${ports.httpPort}`;
    assert.equal((await fetch(http + stage.health)).status, 200);
    const page = await (await fetch(`${http}/`)).text();
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('http'));
    assert.ok(assets.length >= 3, `the page links its script, styles and chart library: ${assets.join(', ')}`);
    for (const asset of assets) assert.equal((await fetch(new URL(asset, `${http}/`))).status, 200, asset);
    const client = new SamplerClient(`127.0.0.1:${ports.grpcPort}`);
    t.after(() => client.close());
    await client.createSampler('image', { datasetSize: 100, numClasses: 4, batchSize: 10, epochs: 3 });
    const batch = await client.nextBatch({ sampler: 'image', step: 0 });
    const report = await client.reportPredictions({ sampler: 'image', step: 0, indices: batch.indices, predictedLabels: batch.indices.map(() => 1) });
    assert.equal(report.accepted, 10);
  });
});

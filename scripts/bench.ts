// npm run bench: the service's performance figures on this machine, each next to a baseline
// measured in the same run (these machines are shared and noisy). See README "Performance".
import { execFileSync, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startApp } from '../src/app.js';
import { FrozenDistribution } from '../src/core/distribution.js';
import { HistoryWindows } from '../src/core/history.js';
import { Rng } from '../src/core/random.js';
import { Uint32Slab } from '../src/core/typed-slab.js';
import { SamplerClient } from '../src/client/sampler-client.js';
import { SamplerService } from '../src/service/sampler-service.js';
import { predictBatch } from '../src/sim/synthetic-model.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import { startEchoServer } from './bench/echo-server.js';
import { trainInProcess } from './bench/train.js';

const SECTIONS = ['next', 'commit', 'draw', 'ingest', 'boundary', 'memory', 'restart'] as const;
const { values: flags } = parseArgs({ options: { only: { type: 'string' } } });
const only = flags.only?.split(',') ?? [...SECTIONS];
for (const name of only) if (!SECTIONS.includes(name as never)) throw new Error(`--only: unknown section ${name} (${SECTIONS.join(', ')})`);
const run = (name: (typeof SECTIONS)[number]) => only.includes(name);

const N = 1_000_000;
const ROUNDS = 3;
const log = pino({ level: 'silent' });
const model = { numClasses: 10, uncertainEvery: 4, seed: 1 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'rs-bench-'));
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

function runNode(script: string, args: string[], extraFlags: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...extraFlags, '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${script} exited with ${code}`))));
  });
}

interface Load {
  p50: number;
  p99: number;
  throughput: number;
  failures: number;
  /** CPU this process (the servers, in-process) ran per call while the load ran. */
  serverCpuUs: number;
}
async function load(args: Record<string, string | number>): Promise<Load> {
  const flat = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const before = process.cpuUsage();
  const result = JSON.parse(await runNode('scripts/bench/load.ts', flat)) as Omit<Load, 'serverCpuUs'>;
  const used = process.cpuUsage(before);
  if (result.failures > 0) throw new Error(`${result.failures} failed calls in ${JSON.stringify(args)}`);
  return { ...result, serverCpuUs: (used.user + used.system) / Number(args.calls) };
}

const revision = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`recency-sampler bench, revision ${revision}, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}`);

const ratio = (a: number, b: number) => (a / b).toFixed(2);

const allIndices = Array.from({ length: N }, (_, i) => i);

// --- NextBatch: b = 256 from an adaptive epoch with full windows, each call a new step.
if (run('next')) {
  const app = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db: join(dir, 'next.db'), synchronous: 'NORMAL' }, log);
  const target = `127.0.0.1:${app.grpcPort}`;
  const client = new SamplerClient(target);
  // Pre-fill: full windows (q = 10) for N = 1,000,000 through 10 warm-up epochs of b = 256.
  const next = await client.createSampler('next', { datasetSize: N, numClasses: 10, batchSize: 256, epochs: 100, window: 10, warmupEpochs: 10, seed: 1 });
  const t0 = performance.now();
  trainInProcess(app.service, 'next', 0, 10 * Number(next.stepsPerEpoch));
  console.log(`pre-filled N = ${N} windows with 10 epochs of b = 256 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const echo = await startEchoServer({ indices: Array.from({ length: 256 }, (_, i) => (i * 7919) % N) });
  const echoTarget = `127.0.0.1:${echo.port}`;
  let step = 10 * Number(next.stepsPerEpoch); // the first adaptive epoch
  // Each call asks for new steps, as a training run does. The variants: the repeated fields (clients
  // of the first contract), the packed fields, and NextBatches of 16 packed steps (the Python client).
  const variants = {
    NextBatch: { method: 'next', packed: false, count: 1, calls: { latency: 3000, throughput: 4000 } },
    'NextBatch packed': { method: 'next', packed: true, count: 1, calls: { latency: 3000, throughput: 4000 } },
    'NextBatches(16) packed': { method: 'nexts', packed: true, count: 16, calls: { latency: 600, throughput: 800 } },
  };
  const modes = { latency: { channels: 4, depth: 1 }, throughput: { channels: 4, depth: 4 } };
  const results: Record<string, Load[]> = {};
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [variant, v] of Object.entries(variants)) {
      for (const [mode, shape] of Object.entries(modes)) {
        for (const service of ['echo', 'sampler'] as const) {
          const calls = v.calls[mode as keyof typeof v.calls];
          const r = await load({
            target: service === 'echo' ? echoTarget : target, service, method: v.method, sampler: 'next', 'first-step': step,
            count: v.count, calls, ...shape, ...(v.packed ? { packed: 'true' } : {}),
          });
          step += calls * v.count;
          if (round > 0) (results[`${variant}/${mode}/${service}`] ??= []).push(r); // round 0 warms up
        }
      }
    }
  }
  const m = (key: string, field: keyof Load) => median(results[key]!.map((r) => r[field]));
  const compare = (label: string, key: string, field: keyof Load, digits: number, target: string) =>
    row(label, m(`${key}/sampler`, field).toFixed(digits), m(`${key}/echo`, field).toFixed(digits), ratio(m(`${key}/sampler`, field), m(`${key}/echo`, field)), target);
  for (const variant of Object.keys(variants)) {
    compare(`${variant} p50, 4 clients (ms)`, `${variant}/latency`, 'p50', 3, '<= 1.25');
    compare(`${variant} p99, 4 clients (ms)`, `${variant}/latency`, 'p99', 3, '<= 1.25');
    compare(`${variant} calls/s, 16 in flight`, `${variant}/throughput`, 'throughput', 0, '>= 0.90');
    // Steadier than calls/s on a machine whose two cores the load generator shares.
    compare(`${variant} server CPU per call, 16 in flight (us)`, `${variant}/throughput`, 'serverCpuUs', 0, '-');
  }
  echo.close();
  client.close();
  await app.close();
}

// --- Also with `--only next`, or alone with `--only commit`.
if (run('next') || run('commit')) {
  // What committing served batches costs on this machine (the work an echo does not do): one batch
  // per transaction (a lone NextBatch call) and 16 (NextBatches(16), or calls of one event-loop
  // turn, which share a commit), on a database of its own. The service writes rows without
  // indices (the batch is rebuilt, src/DESIGN.md); rows with b = 256 indices, as releases before
  // migration 7 wrote them, are measured beside them.
  const storage = new SqliteStorage(join(dir, 'commit.db'), { synchronous: 'NORMAL' });
  const service = new SamplerService(storage, log);
  service.create('commit', { datasetSize: N, numClasses: 10, batchSize: 256, epochs: 100 });
  const id = storage.loadSamplers().find((s) => s.name === 'commit')!.id;
  let indices = new Uint32Array(0);
  let fresh = 1_000_000;
  const commitCost = (perTransaction: number) => {
    const runs: number[] = [];
    for (let r = 0; r < 4; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 400; i++) {
        storage.insertBatches([{ samplerId: id, batches: new Map(Array.from({ length: perTransaction }, () => [fresh++, { worldSize: 1, indices }] as const)) }]);
      }
      runs.push(((performance.now() - t0) / (400 * perTransaction)) * 1000);
    }
    return median(runs.slice(1));
  };
  const one = commitCost(1);
  const sixteen = commitCost(16);
  row('Committing served batches, 1 per transaction (us per batch)', one.toFixed(1), `16 per transaction: ${sixteen.toFixed(1)}`, ratio(one, sixteen), '-');
  indices = Uint32Array.from({ length: 256 }, (_, i) => (i * 7919) % N);
  const withIndices = commitCost(16);
  row('Committing served batches, 16 per transaction (us per batch)', sixteen.toFixed(1), `rows of 256 indices: ${withIndices.toFixed(1)}`, ratio(sixteen, withIndices), '-');
  storage.close();
}

// --- One draw of b = 256 from N = 10^6 windows with many levels, in process, against drawing 256
// uniform indices with Math.random (the cheapest sampler there is).
if (run('draw')) {
  const history = new HistoryWindows(N, 10, 10);
  for (let s = 0; s < 10; s++) history.record(allIndices, predictBatch(model, allIndices, s));
  const distribution = new FrozenDistribution(history.level, history.levels.uncertainty, 95);
  const time = (f: (i: number) => unknown) => {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) f(i);
      runs.push(((performance.now() - t0) / 2000) * 1000);
    }
    return median(runs.slice(1));
  };
  const slab = new Uint32Slab(); // where the service makes its batches (src/core/typed-slab.ts)
  const draw = time((i) => distribution.draw(256, new Rng(1, 2, i), slab.take));
  const uniform = time(() => Uint32Array.from({ length: 256 }, () => Math.floor(Math.random() * N)));
  row(`Draw b = 256 from N = 10^6 (${distribution.groupCount} levels) (us)`, draw.toFixed(1), `uniform: ${uniform.toFixed(1)}`, ratio(draw, uniform), '-');
}

// --- Report ingestion: reports of 1,024 predictions, acknowledged after commit, 8 in flight.
if (run('ingest')) {
  const app = await startApp({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, db: join(dir, 'ingest.db'), synchronous: 'NORMAL' }, log);
  const target = `127.0.0.1:${app.grpcPort}`;
  const client = new SamplerClient(target);
  await client.createSampler('ingest', { datasetSize: N, numClasses: 10, batchSize: 1024, epochs: 20, window: 10, warmupEpochs: 20 });
  const REPORTS = 2000;
  for (let s = 0; s < REPORTS * (ROUNDS + 1); s++) await client.nextBatch({ sampler: 'ingest', step: s });
  const echo = await startEchoServer({ indices: [] });
  const ingest: Load[] = [];
  const ingestEcho: Load[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const shape = { method: 'report', sampler: 'ingest', calls: REPORTS, channels: 4, depth: 2, 'report-size': 1024 };
    const e = await load({ ...shape, target: `127.0.0.1:${echo.port}`, service: 'echo', 'first-step': 0 });
    const r = await load({ ...shape, target, service: 'sampler', 'first-step': round * REPORTS });
    if (round > 0) {
      ingest.push(r);
      ingestEcho.push(e);
    }
  }
  echo.close();
  const perSecond = median(ingest.map((r) => r.throughput * 1024));
  const echoPerSecond = median(ingestEcho.map((r) => r.throughput * 1024));
  row('Report ingestion, durable (predictions/s)', perSecond.toFixed(0), echoPerSecond.toFixed(0), ratio(perSecond, echoPerSecond), '>= 1,000,000/s');
  client.close();
  await app.close();
}

// --- Epoch boundary for N = 10,000,000 (fresh process).
if (run('boundary')) {
  const b = JSON.parse(await runNode('scripts/bench/boundary.ts', ['10000000'])) as { boundaries: number[]; sorts: number[] };
  const boundary = median(b.boundaries.slice(1));
  row('Epoch boundary, N = 10^7 (ms)', boundary.toFixed(1), `sort: ${median(b.sorts).toFixed(1)}`, ratio(boundary, median(b.sorts)), '< 100 ms');

  // A freeze as a running service makes it (the older held epoch compacted in quiet time, its
  // grouping array reused), against one that allocates the array, alternated; at Fashion-MNIST's N
  // and at 10^6.
  for (const n of [60_000, N]) {
    const history = new HistoryWindows(n, 10, 10);
    const indices = Uint32Array.from({ length: n }, (_, i) => i);
    for (let s = 0; s < 10; s++) history.record(indices, predictBatch(model, indices, s));
    const freezeMs = () => {
      const t0 = performance.now();
      const d = new FrozenDistribution(history.level, history.levels.uncertainty, 95);
      return [performance.now() - t0, d] as const;
    };
    const fresh: number[] = [];
    const reused: number[] = [];
    for (let r = 0; r < 21; r++) {
      const [ms, older] = freezeMs(); // no spare array: compact() has not run since the last freeze
      fresh.push(ms);
      older.compact();
      reused.push(freezeMs()[0]);
    }
    const freeze = median(reused.slice(1));
    row(`Freeze P, N = ${n.toLocaleString('en-US')}, older epoch compacted (ms)`, freeze.toFixed(3), `new array: ${median(fresh.slice(1)).toFixed(3)}`, ratio(freeze, median(fresh.slice(1))), '-');
  }
}

// --- Memory for N = 10,000,000, q = 10 (fresh process, two epochs frozen).
if (run('memory')) {
  const mem = JSON.parse(await runNode('scripts/bench/memory.ts', ['10000000'], ['--expose-gc'])) as Record<string, number>;
  row('Memory, N = 10^7, q = 10 (MB RSS)', mem.samplerMB!.toFixed(0), `process: ${mem.rssBeforeMB!.toFixed(0)}`, '-', '< 300 MB');
}

// --- Restart of a sampler with N = 1,000,000 and full windows.
if (run('restart')) {
  const path = join(dir, 'restart.db');
  let t0 = performance.now();
  let storage = new SqliteStorage(path);
  let service = new SamplerService(storage, log);
  const { stepsPerEpoch } = service.create('r', { datasetSize: N, numClasses: 10, batchSize: 256, epochs: 100, window: 10, warmupEpochs: 10 });
  trainInProcess(service, 'r', 0, 10 * stepsPerEpoch); // full windows
  service.close(); // a snapshot of them
  storage.close();
  storage = new SqliteStorage(path);
  service = new SamplerService(storage, log);
  // An adaptive epoch frozen, then 3,516 steps of 256 (900,096 predictions) logged after the snapshot.
  trainInProcess(service, 'r', 10 * stepsPerEpoch, 3516);
  storage.close(); // crash: 900,096 predictions in the log after the last snapshot
  t0 = performance.now();
  storage = new SqliteStorage(path);
  service = new SamplerService(storage, log);
  const crashMs = performance.now() - t0;
  service.close(); // clean shutdown: snapshot
  storage.close();
  t0 = performance.now();
  storage = new SqliteStorage(path);
  service = new SamplerService(storage, log);
  const cleanMs = performance.now() - t0;
  storage.close();
  // Of which the integrity check every start makes: quick_check reads every page.
  const db = new Database(path, { readonly: true });
  t0 = performance.now();
  db.pragma('quick_check(5)');
  const checkMs = performance.now() - t0;
  db.close();
  row('Restart after crash, N = 10^6 full + 900k log tail (ms)', crashMs.toFixed(0), '-', '-', '< 2,000 ms');
  row('Restart after clean shutdown, N = 10^6 full (ms)', cleanMs.toFixed(0), '-', '-', '< 2,000 ms');
  row(`of which quick_check, ${(statSync(path).size / 2 ** 20).toFixed(0)} MB database (ms)`, checkMs.toFixed(0), '-', '-', '-');
}
rmSync(dir, { recursive: true, force: true });

const header = ['measure', 'recency-sampler', 'baseline (same run)', 'ratio', 'target'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(['', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
console.log(`\nBaselines: an echo RPC with the same payload (${ROUNDS} rounds, medians), a Float64Array sort of N numbers.`);

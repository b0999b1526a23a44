// Real servers for integration tests: in-process on ephemeral ports, or as a child process
// (for kill -9 and SIGTERM), each with a temporary SQLite file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../../src/app.js';
import { SamplerClient } from '../../src/client/sampler-client.js';
import { tempDbPath } from './temp.js';

type Hooks = { after: (fn: () => void | Promise<void>) => void };

export async function startTestServer(
  t: Hooks,
  db = tempDbPath(t),
  options: { token?: string; maxDbMb?: number; tlsCert?: string; tlsKey?: string; tlsCa?: Buffer } = {},
): Promise<{ app: RunningApp; client: SamplerClient; db: string }> {
  const app = await startApp(
    { host: '127.0.0.1', grpcPort: 0, httpPort: 0, db, synchronous: 'NORMAL', token: options.token, maxDbMb: options.maxDbMb, tlsCert: options.tlsCert, tlsKey: options.tlsKey },
    pino({ level: 'silent' }),
  );
  const client = new SamplerClient(`127.0.0.1:${app.grpcPort}`, {
    ...(options.token ? { token: options.token } : {}),
    ...(options.tlsCa ? { tlsCa: options.tlsCa } : {}),
  });
  t.after(async () => {
    client.close();
    await app.close();
  });
  return { app, client, db };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly exited: Promise<number | null>;
  readonly logs: Record<string, unknown>[];
}

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Starts `src/main.ts` as a real process and waits for its "listening" log line. */
export async function spawnServer(db: string, extraArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--grpc-port', '0', '--http-port', '0', '--db', db, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: Record<string, unknown>[] = [];
  const lines = createInterface({ input: child.stdout! });
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') {
        clearTimeout(timer);
        resolve({ grpcPort: entry.grpcPort as number, httpPort: entry.httpPort as number });
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { child, ...ports, exited, logs };
}

/** Runs `src/main.ts` with `args` until it exits (killed after 20 s if it starts serving instead). */
export function runServerToExit(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--grpc-port', '0', '--http-port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

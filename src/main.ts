// The only file that touches the process: argv, env, signals, exit.
import { pino } from 'pino';
import { startApp } from './app.js';
import { banner } from './banner.js';
import { parseServerConfig, USAGE } from './config.js';
import { unsupportedNode } from './node-version.js';
import { StorageRefused } from './storage/storage-refused.js';

async function main(): Promise<void> {
  const unsupported = unsupportedNode(process.version);
  if (unsupported) {
    process.stderr.write(`${unsupported}\n`);
    process.exit(1);
  }
  let config;
  try {
    config = parseServerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Written synchronously: few lines, and no exit hook. Buffered, pino flushes at exit with a
  // write it retries forever when the log's reader is gone (EPIPE), so a service whose log pipe
  // was closed would never exit on SIGTERM; written at once, an EPIPE just stops the log.
  const log = pino({ name: 'recency-sampler', level: config.logLevel }, pino.destination({ dest: 1, sync: true }));
  // The handlers are installed before start-up announces anything: a signal that finds none kills
  // the process at once, and whoever read "listening" may send one straight away.
  const starting = startApp(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    starting
      .then((app) => app.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const app = await starting;
  process.stderr.write(`${banner({ ...config, grpcPort: app.grpcPort, httpPort: app.httpPort })}\n`);
}

main().catch((error: unknown) => {
  const why = error instanceof StorageRefused ? error.message : ((error as Error).stack ?? String(error));
  process.stderr.write(`recency-sampler failed to start: ${why}\n`);
  process.exit(1);
});

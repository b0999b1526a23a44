// Server settings from flags and environment variables; defaults in one place, validated once.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { AppConfig } from './app.js';

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  grpcPort: 50051,
  httpPort: 8080,
  db: './data/recency-sampler.db',
  synchronous: 'NORMAL',
  logLevel: 'info',
} as const;

const port = z.coerce.number().int('must be an integer').min(0, 'must be >= 0').max(65535, 'must be <= 65535');

const schema = z.object({
  host: z.string().min(1),
  grpcPort: port,
  httpPort: port,
  db: z.string().min(1),
  synchronous: z.enum(['NORMAL', 'FULL'], 'must be NORMAL or FULL'),
  snapshotEveryPredictions: z.coerce.number().int().min(1).optional(),
  token: z.string().min(16, 'must be at least 16 characters').optional(),
  allowUnauthenticated: z.boolean(),
  maxDbMb: z.coerce.number().positive('must be > 0').optional(),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  maxMessageMb: z.coerce.number().min(1.25, 'must be >= 1.25 (a report of b = 65,536)').max(1024, 'must be <= 1024').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

export type ServerConfig = AppConfig & { readonly logLevel: string };

export const USAGE = `Usage: recency-sampler [options]
  --host HOST            address to bind (env RS_HOST, default ${SERVER_DEFAULTS.host})
  --grpc-port PORT       gRPC port, 0 = any free (env RS_GRPC_PORT, default ${SERVER_DEFAULTS.grpcPort})
  --http-port PORT       HTTP port, 0 = any free (env RS_HTTP_PORT, default ${SERVER_DEFAULTS.httpPort})
  --db PATH              SQLite file, or :memory: (env RS_DB, default ${SERVER_DEFAULTS.db})
  --sync NORMAL|FULL     NORMAL survives a killed process, FULL also power loss (env RS_SYNC, default NORMAL)
  --snapshot-every N     snapshot a sampler every N predictions (env RS_SNAPSHOT_EVERY, default max(N, 65536))
  --log-level LEVEL      pino level (env RS_LOG_LEVEL, default ${SERVER_DEFAULTS.logLevel})
  --token TOKEN          require "authorization: Bearer TOKEN" on gRPC and HTTP (env RS_TOKEN, preferred:
                         a flag shows in the process list); /healthz, /readyz and the dashboard page stay open
  --allow-unauthenticated
                         serve a non-loopback --host without --token (env RS_ALLOW_UNAUTHENTICATED=1); without
                         it the service refuses: anyone who reaches the port could delete samplers
  --tls-cert PATH        serve gRPC and HTTP over TLS with this PEM certificate chain (env RS_TLS_CERT);
  --tls-key PATH         and this PEM private key (env RS_TLS_KEY): both or neither
  --max-message-mb MB    largest gRPC request, decoded on the service's one thread (env RS_MAX_MESSAGE_MB,
                         default 1.25); larger ones answer RESOURCE_EXHAUSTED unread
  --max-db-mb MB         cap the database file; writes past it answer RESOURCE_EXHAUSTED, as on a full disk,
                         and clients retry (env RS_MAX_DB_MB, default: no cap)
  --help                 print this and exit`;

/** Flags win over environment variables, which win over defaults. Throws a readable Error. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      'grpc-port': { type: 'string' },
      'http-port': { type: 'string' },
      db: { type: 'string' },
      sync: { type: 'string' },
      'snapshot-every': { type: 'string' },
      'log-level': { type: 'string' },
      token: { type: 'string' },
      'allow-unauthenticated': { type: 'boolean' },
      'max-db-mb': { type: 'string' },
      'max-message-mb': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const parsed = schema.safeParse({
    host: values.host ?? env.RS_HOST ?? SERVER_DEFAULTS.host,
    grpcPort: values['grpc-port'] ?? env.RS_GRPC_PORT ?? SERVER_DEFAULTS.grpcPort,
    httpPort: values['http-port'] ?? env.RS_HTTP_PORT ?? SERVER_DEFAULTS.httpPort,
    db: values.db ?? env.RS_DB ?? SERVER_DEFAULTS.db,
    synchronous: (values.sync ?? env.RS_SYNC ?? SERVER_DEFAULTS.synchronous).toUpperCase(),
    snapshotEveryPredictions: values['snapshot-every'] ?? env.RS_SNAPSHOT_EVERY,
    logLevel: values['log-level'] ?? env.RS_LOG_LEVEL ?? SERVER_DEFAULTS.logLevel,
    token: values.token ?? (env.RS_TOKEN || undefined),
    allowUnauthenticated: values['allow-unauthenticated'] ?? ['1', 'true', 'yes'].includes((env.RS_ALLOW_UNAUTHENTICATED ?? '').toLowerCase()),
    maxDbMb: values['max-db-mb'] ?? env.RS_MAX_DB_MB,
    maxMessageMb: values['max-message-mb'] ?? env.RS_MAX_MESSAGE_MB,
    tlsCert: values['tls-cert'] ?? (env.RS_TLS_CERT || undefined),
    tlsKey: values['tls-key'] ?? (env.RS_TLS_KEY || undefined),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new Error(`--${flag}: ${issue?.message ?? 'invalid'}`);
  }
  const config = parsed.data;
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new Error(config.tlsCert ? '--tls-key: is required with --tls-cert' : '--tls-cert: is required with --tls-key');
  }
  if (!isLoopback(config.host) && !config.token && !config.allowUnauthenticated) {
    throw new Error(
      `--host: ${config.host} is reachable from other machines, and without --token anyone who reaches it can ` +
        'delete samplers; set --token (or RS_TOKEN), or pass --allow-unauthenticated (RS_ALLOW_UNAUTHENTICATED=1) on a trusted network',
    );
  }
  return config;
}

/** Whether only this machine can reach `host`. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// The one line a person starting the service reads: where to point trainers and a browser, where
// the data lives and whether calls need a token. On stderr: stdout carries the JSON log.
import { isAbsolute, resolve } from 'node:path';

export interface BannerFacts {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly db: string;
  readonly token?: string | undefined;
}

export function banner(f: BannerFacts): string {
  // A wildcard bind is reached through any of the machine's addresses; name the local one.
  const host = f.host === '0.0.0.0' || f.host === '::' ? 'localhost' : f.host.includes(':') ? `[${f.host}]` : f.host;
  const db = f.db === ':memory:' ? ':memory: (nothing kept after exit)' : isAbsolute(f.db) ? f.db : resolve(f.db);
  const auth = f.token ? 'on (bearer token)' : 'off (no --token)';
  return `recency-sampler ready: gRPC ${host}:${f.grpcPort}, dashboard http://${host}:${f.httpPort}/, database ${db}, auth ${auth}`;
}

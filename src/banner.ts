// The one line a person starting the service reads: where to point trainers and a browser, where
// the data lives and whether calls need a token. On stderr: stdout carries the JSON log.
import { isAbsolute, resolve } from 'node:path';

export interface BannerFacts {
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly db: string;
  readonly token?: string | undefined;
  readonly tlsCert?: string | undefined;
}

export function banner(f: BannerFacts): string {
  // A wildcard bind is reached through any of the machine's addresses; name the local one.
  const host = f.host === '0.0.0.0' || f.host === '::' ? 'localhost' : f.host.includes(':') ? `[${f.host}]` : f.host;
  const db = f.db === ':memory:' ? ':memory: (nothing kept after exit)' : isAbsolute(f.db) ? f.db : resolve(f.db);
  const auth = f.token ? 'on (bearer token)' : 'off (no --token)';
  const [grpc, scheme] = f.tlsCert ? [`gRPC ${host}:${f.grpcPort} (TLS)`, 'https'] : [`gRPC ${host}:${f.grpcPort}`, 'http'];
  return `recency-sampler ready: ${grpc}, dashboard ${scheme}://${host}:${f.httpPort}/, database ${db}, auth ${auth}`;
}

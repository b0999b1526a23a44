// What the service shows of a sampler, over its real HTTP API, hashed: equal hashes before and
// after a call mean the call changed nothing anyone can see (position, counters, epochs, and every
// sample's window, draws, F and P).
import { createHash } from 'node:crypto';
import type { RunningApp } from '../../src/app.js';

/** `acrossRestarts`: leave out lastActivity, a time in this process's lifetime, not state. */
export async function stateHash(app: RunningApp, samplers: readonly string[], acrossRestarts = false): Promise<string> {
  const hash = createHash('sha256');
  for (const name of samplers) {
    for (const path of ['', '/epochs', '/export?format=jsonl']) {
      const response = await fetch(`http://127.0.0.1:${app.httpPort}/v1/samplers/${name}${path}`);
      if (!response.ok) throw new Error(`GET ${path} of ${name}: ${response.status}`);
      const text = await response.text();
      hash.update(acrossRestarts ? text.replace(/"lastActivity":(null|"[^"]*")/, '') : text);
    }
  }
  return hash.digest('hex');
}

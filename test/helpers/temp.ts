// Temporary directories for test databases, removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export function tempDbPath(t: TestContext | { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'recency-sampler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'sampler.db');
}

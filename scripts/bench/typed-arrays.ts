// What making a batch-sized typed array costs: one with its own backing store against a view
// carved from a shared buffer (src/core/typed-slab.ts). Prints microseconds per array. In the
// service, whose heap is larger, both cost more (src/core/typed-slab.ts says by how much).
import { Uint32Slab } from '../../src/core/typed-slab.js';

const ARRAYS = 200_000;
const kept: Uint32Array[] = [];
function time(label: string, make: (length: number) => Uint32Array, length: number): void {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < ARRAYS; i++) {
      const a = make(length);
      // Keep the last 1,024, as a sampler's batch cache does.
      kept.push(a);
      if (kept.length > 1024) kept.shift();
    }
    runs.push(((performance.now() - t0) / ARRAYS) * 1000);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: ${runs[2]!.toFixed(3)} us (median of 5 runs of ${ARRAYS})`);
}
for (const length of [256, 1024]) {
  time(`new Uint32Array(${length})`, (n) => new Uint32Array(n), length);
  time(`Uint32Slab.take(${length})`, new Uint32Slab().take, length);
}

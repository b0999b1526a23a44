// How a global batch is split among the ranks of a distributed job: contiguous slices, as even as
// possible. With b = q * W + r, ranks 0 .. r-1 get q + 1 indices and the others q, in rank order,
// so the shares are disjoint and their concatenation is the global batch.

export function shareBounds(batchLength: number, rank: number, worldSize: number): [number, number] {
  const base = Math.floor(batchLength / worldSize);
  const extra = batchLength % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}

export function shareOf(batch: Uint32Array, rank: number, worldSize: number): Uint32Array {
  const [start, end] = shareBounds(batch.length, rank, worldSize);
  return batch.subarray(start, end);
}

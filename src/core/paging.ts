// One page of samples in a sort order without sorting N numbers: a counting sort by an integer
// sort key (rank 0 first), ties by index, that keeps only the page. O(N + keys) time, O(page) space.

/**
 * Indices at positions [offset, offset + limit) of the order "key ascending, then index
 * ascending", where keyOf(i) is in [0, keyCount).
 */
export function pageByKey(n: number, keyOf: (i: number) => number, keyCount: number, offset: number, limit: number): Uint32Array {
  const start = new Float64Array(keyCount + 1);
  for (let i = 0; i < n; i++) start[keyOf(i) + 1]! += 1;
  for (let k = 0; k < keyCount; k++) start[k + 1]! += start[k]!;
  const end = Math.min(n, offset + limit);
  const page = new Uint32Array(Math.max(0, end - offset));
  if (page.length === 0) return page;
  for (let i = 0; i < n; i++) {
    const k = keyOf(i);
    const position = start[k]!;
    start[k] = position + 1;
    if (position >= offset && position < end) page[position - offset] = i;
  }
  return page;
}

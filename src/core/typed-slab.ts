// Fresh, zeroed Uint32Arrays carved from shared buffers, for the arrays made per batch (a draw's
// result, a permutation's slice). A typed array over 64 bytes gets an off-heap backing store of
// its own: 2 to 4 us each on the 2-core machine (node 20 and 24), where a draw of 256 takes 13 to
// 17 us (`npm run bench -- --only draw`), and the external memory brings collections forward; a
// view on a shared buffer costs about 0.1 us, plus the shared buffer's own allocation spread
// over its views (`npx tsx scripts/bench/typed-arrays.ts`). A view keeps its whole buffer alive,
// so each sampler takes its batches from a slab of its own: they leave its batch cache in the
// order they were made, and a sampler holds about one buffer beyond the batches it keeps.

/** Makes a new zeroed Uint32Array of a given length, as `new Uint32Array(length)` does. */
export type AllocateUint32 = (length: number) => Uint32Array;

export const ownBuffer: AllocateUint32 = (length) => new Uint32Array(length);

export class Uint32Slab {
  private buffer: ArrayBuffer;
  private used = 0;

  /** @param bytes the size of each shared buffer; arrays over a sixteenth of it get their own */
  constructor(private readonly bytes = 65_536) {
    this.buffer = new ArrayBuffer(bytes);
  }

  readonly take: AllocateUint32 = (length) => {
    const size = length * 4;
    if (size > this.bytes / 16) return new Uint32Array(length);
    if (this.used + size > this.bytes) {
      // Never reused: every view stays zero until its owner writes it.
      this.buffer = new ArrayBuffer(this.bytes);
      this.used = 0;
    }
    const view = new Uint32Array(this.buffer, this.used, length);
    this.used += size;
    return view;
  };
}

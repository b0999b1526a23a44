// Fresh, zeroed Uint32Arrays carved from shared buffers, for the arrays made per batch (a draw's
// result, a permutation's slice). A typed array over 64 bytes gets an off-heap backing store of
// its own, which in the service cost 2 to 4 us per batch of 256 on the 2-core machine (node 20
// and 24; more than a quarter of the draw) and brought garbage collections forward; a view on a
// shared buffer costs about 0.1 us, plus the shared buffer's own allocation spread over its
// views (`npx tsx scripts/bench/typed-arrays.ts`). A view keeps its whole buffer alive, so each
// sampler takes its batches from a slab of its own: they leave its batch cache in the order they
// were made, and a sampler holds at most one buffer beyond the batches it keeps.

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

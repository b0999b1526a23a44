// Typed arrays to and from SQLite blobs without copying more than once.

export function toBlob(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Copies a blob into a fresh, aligned typed array of the given kind. */
export function fromBlob<T extends Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array>(
  blob: Uint8Array,
  kind: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const copy = new ArrayBuffer(blob.byteLength);
  new Uint8Array(copy).set(blob);
  return new kind(copy);
}

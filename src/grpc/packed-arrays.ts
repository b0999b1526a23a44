// The contract's packed fields: little-endian uint32 / int32 / float32 arrays carried as bytes beside
// their repeated twins. Decoding them is a view (or one copy), not a JS number per element, and
// the Python client reads them the same way; see proto/recency_sampler/v1/sampler.proto.
import { endianness } from 'node:os';
import { invalidArgument } from '../core/errors.js';

const LITTLE_ENDIAN = endianness() === 'LE';

type Typed = Uint32Array | Int32Array | Float32Array;
type TypedCtor<T extends Typed> = { new (length: number): T; new (buffer: ArrayBufferLike, byteOffset: number, length: number): T };

/** The array a message carries in `repeated` or in its packed twin; both at once is an error. */
export function repeatedOrPacked<T extends Typed>(
  field: string,
  repeated: readonly number[] | undefined,
  packed: Uint8Array | undefined,
  Ctor: TypedCtor<T>,
): ArrayLike<number> | undefined {
  if (!packed || packed.byteLength === 0) return repeated;
  if (repeated && repeated.length > 0) {
    throw invalidArgument(`packed_${field}`, `must be empty when ${field} is given (send one of the two)`);
  }
  if (packed.byteLength % 4 !== 0) {
    throw invalidArgument(`packed_${field}`, `must be a whole number of 4-byte little-endian values, got ${packed.byteLength} bytes`);
  }
  return unpack(packed, Ctor);
}

function unpack<T extends Typed>(bytes: Uint8Array, Ctor: TypedCtor<T>): T {
  const length = bytes.byteLength / 4;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Ctor(bytes.buffer, bytes.byteOffset, length);
  const out = new Ctor(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = out instanceof Float32Array ? view.getFloat32 : out instanceof Int32Array ? view.getInt32 : view.getUint32;
  for (let i = 0; i < length; i++) out[i] = read.call(view, 4 * i, true);
  return out;
}

/** The bytes of a packed field: a view of the array on little-endian hosts (all Node targets). */
export function pack(values: Typed): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.byteLength);
  const write = values instanceof Float32Array ? out.writeFloatLE : values instanceof Int32Array ? out.writeInt32LE : out.writeUInt32LE;
  for (let i = 0; i < values.length; i++) write.call(out, values[i]!, 4 * i);
  return out;
}

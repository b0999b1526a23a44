// Requests reach the handlers as bytes and are decoded there, after the caller is authorized and
// after their repeated values are counted on the wire. Decoding makes one JS number per repeated
// value (50 to 150 ns each here, on the one event loop), so the count, not the byte size, bounds
// the stall one call can cause: 1.25 MiB of one-byte varints is 1.3 million values. Counting
// reads lengths and tests one byte per varint, and makes nothing.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { SamplerError, invalidArgument } from '../core/errors.js';
import { MAX_BATCH_SIZE } from '../core/sampler-config.js';
import { PROTO_FILE, PROTO_ROOT } from '../proto.js';

/** The widest legitimate request: one report of a b = 65,536 share with its five repeated fields. */
export const MAX_REQUEST_VALUES = 5 * MAX_BATCH_SIZE;

const FIXED_WIDTH: Readonly<Record<string, number>> = { fixed32: 4, sfixed32: 4, float: 4, fixed64: 8, sfixed64: 8, double: 8 };

let root: protobuf.Root | undefined;

/** The contract, with field names as the .proto spells them. */
function contract(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
    root.loadSync(PROTO_FILE, { keepCase: true }).resolveAll();
  }
  return root;
}

/**
 * Walks a message's fields without decoding them, adding each repeated value (a packed scalar,
 * an unpacked one, a repeated message) to `tally`. Returns the path of the field at which the
 * tally first passes `budget` (`reports[3].indices`), or undefined when it never does.
 */
function overBudget(type: protobuf.Type, reader: protobuf.Reader, end: number, tally: { values: number }, budget: number, prefix: string): string | undefined {
  const occurrences = new Map<number, number>();
  while (reader.pos < end) {
    const tag = reader.uint32();
    const wire = tag & 7;
    const field = type.fieldsById[tag >>> 3];
    if (!field) {
      reader.skipType(wire);
      continue;
    }
    const nth = occurrences.get(field.id) ?? 0;
    occurrences.set(field.id, nth + 1);
    const path = prefix + field.name + (field.repeated && field.resolvedType instanceof protobuf.Type ? `[${nth}]` : '');
    if (field.repeated) tally.values += 1; // one element, unless packed (counted below)
    if (wire === 2 && field.resolvedType instanceof protobuf.Type) {
      const length = reader.uint32();
      const inner = overBudget(field.resolvedType, reader, reader.pos + length, tally, budget, `${path}.`);
      if (inner) return inner;
    } else if (wire === 2 && field.repeated && field.type !== 'string' && field.type !== 'bytes') {
      const length = reader.uint32();
      const start = reader.pos;
      reader.skip(length); // checks the bounds
      const width = FIXED_WIDTH[field.type];
      let values = 0;
      if (width) values = Math.ceil(length / width);
      else for (let i = start; i < start + length; i++) if (reader.buf[i]! < 0x80) values++; // a varint's last byte
      tally.values += values - 1;
    } else {
      reader.skipType(wire);
    }
    if (tally.values > budget) return path;
  }
  if (reader.pos !== end) throw new RangeError(`a field overruns its message by ${reader.pos - end} bytes`);
  return undefined;
}

/** The number of repeated values in an encoded message (exported for its test). */
export function repeatedValueCount(fullName: string, bytes: Uint8Array): number {
  const tally = { values: 0 };
  overBudget(contract().lookupType(fullName), protobuf.Reader.create(bytes), bytes.length, tally, Infinity, '');
  return tally.values;
}

type Deserialize = (bytes: Buffer) => unknown;

/** Decodes each method's requests in the handler instead of in grpc-js, after a count of their values. */
export class RequestDecoder {
  /** The service definition with requests handed over as bytes. */
  readonly rawService: grpc.ServiceDefinition;
  private readonly methods = new Map<string, { type: protobuf.Type; deserialize: Deserialize }>();

  constructor(
    service: grpc.ServiceDefinition,
    private readonly budget = MAX_REQUEST_VALUES,
  ) {
    const raw: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [name, method] of Object.entries(service)) {
      const [, serviceName, methodName] = method.path.split('/') as [string, string, string];
      const type = contract().lookupService(serviceName).methods[methodName]!.resolvedRequestType!;
      this.methods.set(name, { type, deserialize: method.requestDeserialize });
      raw[name] = { ...method, requestDeserialize: (bytes: Buffer) => bytes };
    }
    this.rawService = raw;
  }

  /**
   * A request of `method` from its bytes. Refuses, with the field's name, one that carries more
   * repeated values than the budget, before making any of them; and names a malformed one.
   */
  decode<T>(method: string, bytes: Buffer): T {
    const { type, deserialize } = this.methods.get(method)!;
    let field: string | undefined;
    try {
      field = overBudget(type, protobuf.Reader.create(bytes), bytes.length, { values: 0 }, this.budget, '');
      if (field === undefined) return deserialize(bytes) as T;
    } catch (error) {
      if (error instanceof SamplerError) throw error;
      throw invalidArgument('request', `is not a valid ${type.name} message (${(error as Error).message})`);
    }
    throw invalidArgument(
      field,
      `the request carries more than ${this.budget} repeated values, the most one call decodes (every repeated field of a report of the widest share, b = ${MAX_BATCH_SIZE}); send the packed_ field or split the call`,
    );
  }
}

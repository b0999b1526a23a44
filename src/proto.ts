// Loads the .proto contract once, with the decoding options both the server and the client use.
// Types come from src/generated (made by `npm run gen:proto`, checked for drift in CI).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/sampler.js';

export const PROTO_ROOT = fileURLToPath(new URL('../proto', import.meta.url));
export const PROTO_FILE = 'recency_sampler/v1/sampler.proto';

/** Answers may be large: NextBatches of 64 steps of b = 65,536 with loss weights is 32 MiB. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Requests are read on the one event loop; past this size gRPC refuses them unread, and under it
 * the count of their repeated values bounds the decoding (src/grpc/request-decoding.ts). The
 * largest report is a share of b = 65,536 with every field, 1 MiB packed; clients split bulk
 * calls to fit. --max-message-mb overrides it.
 */
export const DEFAULT_MAX_REQUEST_MB = 1.25;

let loaded: ProtoGrpcType | undefined;

export function samplerProto(): ProtoGrpcType {
  if (!loaded) {
    const definition = protoLoader.loadSync(PROTO_FILE, {
      includeDirs: [PROTO_ROOT],
      longs: Number,
      enums: String,
      defaults: false, // an unset optional field stays undefined, so its default applies
      arrays: true,
      oneofs: true,
    });
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}

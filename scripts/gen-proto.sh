#!/usr/bin/env bash
# Generates the TypeScript types of the .proto contract into src/generated (or into $1), the one
# way they are made. With --check, fails if the committed files differ from fresh output.
set -euo pipefail
cd "$(dirname "$0")/.."
generate() {
  rm -rf "$1"
  npx proto-loader-gen-types recency_sampler/v1/sampler.proto --longs Number --enums String --oneofs \
    --grpcLib @grpc/grpc-js --importFileExtension .js -I proto -O "$1" >/dev/null
}
if [ "${1:-}" = "--check" ]; then
  fresh=$(mktemp -d)
  trap 'rm -rf "$fresh"' EXIT
  generate "$fresh/generated"
  if ! diff -r "$fresh/generated" src/generated; then
    echo "src/generated is out of date with proto/: run npm run gen:proto and commit" >&2
    exit 1
  fi
  echo "generated code matches proto/"
else
  generate src/generated
fi

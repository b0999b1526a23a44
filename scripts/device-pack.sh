#!/usr/bin/env bash
# Packs what a GPU machine needs to run scripts/gpu-bench.sh and has not got (it has python3 with
# torch, grpcio, protobuf and numpy, but no Node.js) into device/, which git ignores, for the
# device tool's `carry` (64 MiB at most): a Node binary and the built service with its modules.
#
#   scripts/device-pack.sh [NODE_VERSION]     # default 24 (its binary needs no libatomic)
#
# Then, on the device: scripts/device-run.sh "$OUT" [SECONDS] [PARTS], carrying device/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-lts.sh
version=${1:-24}
bin=$(node_bin "$version")
export PATH="$bin:$PATH"
# The native SQLite binding must be built for the Node that will run it.
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; then
  echo "== rebuilding better-sqlite3 for Node $(node --version)" >&2
  npm rebuild better-sqlite3 >/dev/null
fi
npm run build --silent
rm -rf device && mkdir device
node --version >device/node-version
# xz at level 6: about 30 MB for the binary, 15 MB for the rest (a few minutes on two cores).
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >device/node.xz
# What a run does not need: the compiler, the browser driver, type definitions, the binding's
# sources and objects. tsx (and esbuild) stay: the 'next' part runs scripts/bench.ts with it.
tar -cJf device/app.tar.xz \
  --exclude=node_modules/typescript --exclude=node_modules/playwright-core --exclude=node_modules/@types \
  --exclude=node_modules/better-sqlite3/deps --exclude=node_modules/better-sqlite3/src \
  --exclude='node_modules/better-sqlite3/build/Release/obj*' --exclude='node_modules/better-sqlite3/build/Release/.deps' \
  --exclude=node_modules/.cache \
  node_modules dist
du -sh device/*
total=$(du -sm device | cut -f1)
((total < 64)) || { echo "device/ is ${total} MiB: over the carry's 64 MiB" >&2; exit 1; }

#!/usr/bin/env bash
# scripts/test-node-version.sh 22: the TypeScript side (npm ci, typecheck, build, every node test)
# under another Node version, in a copy of the working tree so this checkout's node_modules (built
# for the Node it runs) stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-lts.sh
bin=$(node_bin "$1")
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files -co --exclude-standard | grep -v '^node_modules$' | tar -cf - -T - | tar -xf - -C "$copy"
cd "$copy"
export PATH="$bin:$PATH"
echo "== TypeScript tests on Node $(node --version)"
npm ci --no-audit --no-fund >npm-ci.log 2>&1 || { cat npm-ci.log >&2; exit 1; }
npm run typecheck
npm run build --silent
npm run test:node

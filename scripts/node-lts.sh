# Sourced: node_bin VERSION installs Node VERSION from the npm registry's `node` package (which
# ships the binary and its C headers) into a cache directory once, and prints a directory holding
# that `node` and `npm`/`npx` shims that run this machine's npm under it, with node-gyp pointed at
# VERSION's headers: native modules (better-sqlite3) are built from source here, for the node npm
# runs under and against npm's `nodedir` (the system's headers unless told otherwise).
node_bin() {
  local dir=${XDG_CACHE_HOME:-$HOME/.cache}/recency-sampler/node-$1
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    echo "== installing Node $1 from the npm package node@$1 (once) into $dir" >&2
    mkdir -p "$(dirname "$dir")"  # a fresh machine has no cache directory for the log yet
    npm install --no-audit --no-fund --prefix "$dir" "node@$1" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; return 1; }
  fi
  local cli_dir="" node headers candidate
  # This machine's npm: the first npm on PATH that is npm's own CLI (not a shim made here).
  for candidate in $(type -ap npm); do
    if [ "$(basename "$(readlink -f "$candidate")")" = npm-cli.js ]; then
      cli_dir=$(dirname "$(readlink -f "$candidate")")
      break
    fi
  done
  [ -n "$cli_dir" ] || { echo "no npm found on PATH" >&2; return 1; }
  node=$(readlink -f "$dir/node_modules/.bin/node")
  headers=$(dirname "$(dirname "$(find "$dir/node_modules" -path '*/include/node/node.h' | head -1)")")
  headers=$(dirname "$headers")
  mkdir -p "$dir/bin"
  ln -sf "$node" "$dir/bin/node"
  for tool in npm npx; do
    printf '#!/bin/sh\nnpm_config_nodedir="%s" exec "%s" "%s/%s-cli.js" "$@"\n' "$headers" "$node" "$cli_dir" "$tool" >"$dir/bin/$tool"
  done
  chmod +x "$dir/bin/npm" "$dir/bin/npx"
  echo "$dir/bin"
}

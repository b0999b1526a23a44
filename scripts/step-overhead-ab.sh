#!/usr/bin/env bash
# Usage: scripts/step-overhead-ab.sh REV [PAIRS] [step_overhead.py arguments...]
#
# The Python client of REV against this working tree's, in alternated runs of
# clients/python/examples/step_overhead.py (default arguments: --steps 235 --api loader device),
# PAIRS pairs (default 3), each run against a fresh service built from this tree's dist/ (run
# `npm run build` first): the same-hour comparison the README's step-overhead figures come from.
# REV is checked out once into a git worktree under ${TMPDIR:-/tmp}; only its client is used,
# unless WITH_SERVICE=1: then REV's runs are against REV's own service (built in the worktree,
# with this tree's node_modules), so the comparison covers client and service.
set -euo pipefail
rev=${1:?usage: scripts/step-overhead-ab.sh REV [PAIRS] [step_overhead.py arguments...]}
pairs=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--steps 235 --api loader device)

root=$(git rev-parse --show-toplevel)
python=${PYTHON:-python3}
[ -f "$root/dist/main.js" ] || { echo "no dist/main.js: run npm run build first" >&2; exit 1; }
old="${TMPDIR:-/tmp}/recency-sampler-ab-$(git -C "$root" rev-parse --short "$rev")"
[ -d "$old" ] || git -C "$root" worktree add --detach -f "$old" "$rev" >/dev/null
if [ "${WITH_SERVICE:-0}" = 1 ] && [ ! -f "$old/dist/main.js" ]; then
  ln -sfn "$root/node_modules" "$old/node_modules"
  (cd "$old" && npx tsc -p tsconfig.build.json)
fi

for pair in $(seq 1 "$pairs"); do
  for which in "$rev" working-tree; do
    client="$root/clients/python"
    [ "$which" = working-tree ] || client="$old/clients/python"
    server="$root/dist/main.js"
    [ "$which" = working-tree ] || [ "${WITH_SERVICE:-0}" != 1 ] || server="$old/dist/main.js"
    db=$(mktemp -d)
    node "$server" --grpc-port 0 --http-port 0 --db "$db/db" >"$db/log" 2>&1 &
    service=$!
    for _ in $(seq 100); do grep -q '"grpcPort"' "$db/log" && break; sleep 0.1; done
    port=$(grep -o '"grpcPort":[0-9]*' "$db/log" | head -1 | cut -d: -f2)
    echo "== pair $pair: client$([ "${WITH_SERVICE:-0}" = 1 ] && echo " and service") of $which"
    (cd "$client" && PYTHONPATH=. "$python" "$root/clients/python/examples/step_overhead.py" \
      --target "127.0.0.1:$port" --service-pid "$service" "${args[@]}" 2>&1 | grep -E '^ *ranks|^ +[0-9]+ ') || true
    kill "$service"; wait "$service" 2>/dev/null || true
    rm -rf "$db"
  done
done

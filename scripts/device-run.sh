#!/usr/bin/env bash
# On a GPU machine, in a checkout carrying device/ (scripts/device-pack.sh): unpacks Node and the
# built service, then runs scripts/gpu-bench.sh into OUT. Needs only python3 (it unpacks the xz
# files itself, where xz may be missing).
#
#   scripts/device-run.sh OUT [SECONDS] [PARTS]
#
# SECONDS (default 540) bounds the whole run: gpu-bench.sh skips a part that would not fit, so a
# run cut short still returns what it measured. PARTS defaults to the README's H200 table in the
# order of what matters most: the CNN on one process and on 8 ranks, the CUDA tests, the spin
# loops, the service bench and its capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/device-run.sh OUT [SECONDS] [PARTS]}
seconds=${2:-540}
parts=${3:-"cnn-128 cnn-512 cnn-ranks-512 cnn-ranks-128 tests spin spin-ranks next capacity"}
[ -f device/node.xz ] && [ -f device/app.tar.xz ] || { echo "device/ is missing: run scripts/device-pack.sh and carry device" >&2; exit 1; }
bin=$(mktemp -d)
python3 - "$bin" <<'PY'
import lzma, os, shutil, sys, tarfile
with lzma.open("device/node.xz") as src, open(os.path.join(sys.argv[1], "node"), "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
os.chmod(os.path.join(sys.argv[1], "node"), 0o755)
with tarfile.open("device/app.tar.xz", "r:xz") as tar:
    tar.extractall(".", filter="tar") if hasattr(tarfile, "data_filter") else tar.extractall(".")
PY
export PATH="$bin:$PATH"
echo "== node $(node --version) (packed with $(cat device/node-version))"
node -e "new (require('better-sqlite3'))(':memory:').close()"
python3 -c "import pytest" 2>/dev/null || echo "== no pytest here: the tests part will fail"
exec bash scripts/gpu-bench.sh "$out" "$seconds" "$parts"

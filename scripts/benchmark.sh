#!/usr/bin/env bash
# npm run benchmark [-- ARGS]: the strategy benchmark on Fashion-MNIST (clients/python/examples/
# benchmark.py) in the tests' torch environment (made on first use). Default: the full comparison into docs/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
venv py "${MAIN_VENV_PACKAGES[@]}"
cd clients/python
if [ $# -eq 0 ]; then set -- --out ../../docs/results; fi
PYTHONPATH="$PWD:$PWD/examples" exec "$MAIN_VENV/bin/python" examples/benchmark.py "$@"

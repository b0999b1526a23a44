#!/usr/bin/env bash
# The Python client's tests against the real service (dist/main.js, built by npm test).
#   scripts/test-python.sh         fast: the torch stack (grpcio 1.84, protobuf 7.36), slow examples left out
#   scripts/test-python.sh --full  every supported stack, every test: also protobuf 6.33, TensorFlow 2.21
#                                  in its own environment (it pins protobuf), and Debian's grpcio 1.51 +
#                                  protobuf 4.21 (system python3)
# Environments are made on first use in $RS_VENV_DIR (default ~/.cache/recency-sampler/venvs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
full=false
[ "${1:-}" = "--full" ] && full=true

run_pytest() { # run_pytest LABEL PYTHON ARGS...
  local label=$1 python=$2; shift 2
  echo "== python client tests: $label"
  (cd "$py" && PYTHONPATH="$root/$py" "$python" -m pytest -q -p no:cacheprovider "$@")
}

venv py "${MAIN_VENV_PACKAGES[@]}"
(cd "$py" && "$MAIN_VENV/bin/python" gen_descriptor.py --check)
if ! $full; then
  run_pytest "grpcio 1.84, protobuf 7.36, torch 2.13 (fast: slow examples left out; --full runs them)" "$MAIN_VENV/bin/python" -m "not slow"
  exit 0
fi
run_pytest "grpcio 1.84, protobuf 7.36, torch 2.13" "$MAIN_VENV/bin/python"

venv pb6 grpcio==1.84.0 protobuf==6.33.6 numpy pytest
run_pytest "grpcio 1.84, protobuf 6.33" "$VENV_ROOT/pb6/bin/python" tests/test_client.py tests/test_relay.py

venv tf tensorflow-cpu==2.21.0 keras==3.15.1 numpy pytest
run_pytest "TensorFlow $("$VENV_ROOT/tf/bin/python" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null), Keras 3.15" \
  "$VENV_ROOT/tf/bin/python" tests/test_client.py tests/test_relay.py tests/test_tensorflow.py

if /usr/bin/python3 -c 'import grpc, google.protobuf, numpy, pytest' 2>/dev/null; then
  run_pytest "Debian: grpcio $(/usr/bin/python3 -c 'import grpc; print(grpc.__version__)'), protobuf $(/usr/bin/python3 -c 'import google.protobuf as p; print(p.__version__)')" /usr/bin/python3 tests/test_client.py tests/test_relay.py
elif skipping debian; then
  echo "== SKIPPED Debian stack (RS_TEST_SKIP=debian)" >&2
else
  echo "== Debian stack missing: run scripts/setup.sh (or apt-get install python3-grpcio python3-protobuf python3-numpy python3-pytest), or set RS_TEST_SKIP=debian" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs the Python client's tests against the real service (dist/main.js, built by npm test) on
# each supported stack: grpcio 1.84 with protobuf 7.36 (+ torch 2.13) and 6.33, Debian 12's
# grpcio 1.51 with protobuf 4.21, and TensorFlow 2.21 in its own environment (it pins protobuf). Virtual environments are made
# on first use under .venv-*/ from the wheels on this machine's disk.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh

run_pytest() { # run_pytest LABEL PYTHON ARGS...
  local label=$1 python=$2; shift 2
  echo "== python client tests: $label"
  (cd "$py" && PYTHONPATH="$root/$py" "$python" -m pytest -q -p no:cacheprovider "$@")
}

venv .venv-py "${MAIN_VENV_PACKAGES[@]}"
(cd "$py" && "$root/.venv-py/bin/python" gen_descriptor.py --check)
run_pytest "grpcio 1.84, protobuf 7.36, torch 2.13" "$root/.venv-py/bin/python"

venv .venv-pb6 grpcio==1.84.0 protobuf==6.33.6 numpy pytest
run_pytest "grpcio 1.84, protobuf 6.33" "$root/.venv-pb6/bin/python" tests/test_client.py

venv .venv-tf tensorflow-cpu==2.21.0 keras==3.15.1 numpy pytest
run_pytest "TensorFlow $(.venv-tf/bin/python -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null), Keras 3.15" "$root/.venv-tf/bin/python" tests/test_client.py tests/test_tensorflow.py

if /usr/bin/python3 -c 'import grpc, google.protobuf, numpy, pytest' 2>/dev/null; then
  run_pytest "Debian: grpcio $(/usr/bin/python3 -c 'import grpc; print(grpc.__version__)'), protobuf $(/usr/bin/python3 -c 'import google.protobuf as p; print(p.__version__)')" /usr/bin/python3 tests/test_client.py
else
  echo "== SKIPPED Debian stack: apt-get install python3-grpcio python3-protobuf python3-numpy python3-pytest" >&2
  [ -z "${CI:-}" ] || exit 1
fi

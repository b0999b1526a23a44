#!/usr/bin/env bash
# Every prerequisite of the tests, examples and benchmarks, the one documented way (Debian/Ubuntu):
# a compiler for better-sqlite3, Python's venv, Debian's grpcio/protobuf stack (the oldest the
# client supports), Fashion-MNIST for the examples, Chromium for the dashboard's browser test;
# then npm ci and the Python environments. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
$sudo apt-get install -y -qq g++ make python3 python3-venv python3-grpcio python3-protobuf python3-numpy \
  python3-pytest dataset-fashion-mnist chromium >/dev/null
npm ci --no-audit --no-fund
source scripts/python-env.sh
venv py "${MAIN_VENV_PACKAGES[@]}"
if [ "${1:-}" = "--full" ]; then
  venv pb6 grpcio==1.84.0 protobuf==6.33.6 numpy pytest
  venv tf tensorflow-cpu==2.21.0 keras==3.15.1 numpy pytest
fi
echo "ready: npm test (fast), npm run test:full (every stack)"

#!/usr/bin/env bash
# The README's GPU figures, on a machine with a CUDA device: the torch client's CUDA tests against
# the real service, then the per-step cost with a small CNN on GPU-resident data (batch 128 and 512,
# 1 process and 8 gloo ranks on the one GPU), then the CPU stand-in loops, the service's NextBatch
# benchmark and its capacity on that machine's cores. Needs node, a built dist/ and node_modules.
#
#   scripts/gpu-bench.sh OUT_DIR [SECONDS] [PARTS]
#
# Each part writes OUT_DIR/<part>.log (and .csv for the loops); a part that would not finish
# before SECONDS (default 1800) have passed is skipped, so a time-boxed run still returns what it
# measured. PARTS (default all, in this order): tests cnn-128 cnn-512 cnn-ranks-512 cnn-ranks-128 relay
# spin spin-ranks next capacity.
set -uo pipefail
out=${1:?usage: scripts/gpu-bench.sh OUT_DIR [SECONDS] [PARTS]}
budget=${2:-1800}
parts=${3:-"tests cnn-128 cnn-512 cnn-ranks-512 cnn-ranks-128 relay spin spin-ranks next capacity"}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
started=$SECONDS
export PYTHONPATH="$root/clients/python:$root/clients/python/examples" PYTHONUNBUFFERED=1
py=${PYTHON:-python3}

# part name, seconds it may take, command...
part() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - (SECONDS - started)))
  if ((left < limit / 2)); then
    echo "== $name: skipped, ${left}s left" | tee -a "$out/summary.log"
    return
  fi
  ((limit > left)) && limit=$left
  echo "== $name (at most ${limit}s): $*" | tee -a "$out/summary.log"
  local t0=$SECONDS
  (cd "$root/clients/python" && timeout "$limit" "$@") >"$out/$name.log" 2>&1
  local rc=$?
  echo "== $name: rc $rc in $((SECONDS - t0))s" | tee -a "$out/summary.log"
  tail -n 25 "$out/$name.log" >>"$out/summary.log"
}

{
  nvidia-smi -L 2>&1 || true
  nproc
  node --version
  $py -c 'import torch, grpc, google.protobuf as p, numpy; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "grpcio", grpc.__version__, "protobuf", p.__version__, "numpy", numpy.__version__)'
} >"$out/summary.log" 2>&1
cat "$out/summary.log"

overhead="examples/step_overhead.py"
for p in $parts; do
  case $p in
  tests) part tests 180 $py -m pytest -q -p no:cacheprovider -rs -k "cuda or relay" tests/test_data_plane.py tests/test_fan_out.py tests/test_noisy_labels.py tests/test_relay.py ;;
  cnn-128) part $p 120 $py $overhead --workload cnn --device cuda --batch 128 --width 32 --csv "$out/cnn.csv" ;;
  cnn-512) part $p 120 $py $overhead --workload cnn --device cuda --batch 512 --width 64 --csv "$out/cnn.csv" ;;
  cnn-ranks-128) part $p 200 $py $overhead --workload cnn --device cuda --ranks 8 --batch 128 --width 32 --steps 150 --pairs 3 --api device --csv "$out/cnn-ranks.csv" ;;
  cnn-ranks-512) part $p 200 $py $overhead --workload cnn --device cuda --ranks 8 --batch 512 --width 64 --steps 150 --pairs 3 --api device --csv "$out/cnn-ranks.csv" ;;
  relay) # the relay (the default: the per-step calls from a helper process) against --no-relay (threads), same run
    part relay-cnn-128 120 $py $overhead --workload cnn --device cuda --batch 128 --width 32 --api device --relay --csv "$out/relay.csv"
    part relay-cnn-128-direct 120 $py $overhead --workload cnn --device cuda --batch 128 --width 32 --api device --no-relay --csv "$out/relay.csv"
    part relay-spin 100 $py $overhead --api device --relay --csv "$out/relay.csv"
    part relay-spin-direct 100 $py $overhead --api device --no-relay --csv "$out/relay.csv"
    ;;
  spin) part $p 150 $py $overhead --csv "$out/spin.csv" ;;
  spin-ranks) part $p 240 $py $overhead --ranks 8 --steps 150 --pairs 3 --csv "$out/spin-ranks.csv" ;;
  next) part $p 240 bash -c "cd '$root' && node --import tsx scripts/bench.ts --only next" ;;
  capacity) part $p 200 $py examples/capacity.py ;;
  *) echo "unknown part $p" >&2 && exit 2 ;;
  esac
done
echo "== done in $((SECONDS - started))s" | tee -a "$out/summary.log"

# Sourced by the test and benchmark scripts: where pip finds wheels, where virtual environments
# live (a cache directory outside the repository), and venv() to make one once.
# MAIN_VENV is the environment of the torch tests, the examples and the benchmarks.
root=$PWD
py=clients/python
# The machine's wheels; without them pip uses its usual index.
if [ -d /opt/pypi/simple ]; then
  export PIP_INDEX_URL=file:///opt/pypi/simple PIP_EXTRA_INDEX_URL=file:///opt/pypi-more/simple
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
PYTHON=${PYTHON:-python3}
VENV_ROOT=${RS_VENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/recency-sampler/venvs}

venv() { # venv NAME PACKAGES...: makes $VENV_ROOT/NAME with PACKAGES unless it already has them
  local dir=$VENV_ROOT/$1; shift
  local want="$*"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.packages" 2>/dev/null)" != "$want" ]; then
    echo "== making the Python environment $dir (once)" >&2
    rm -rf "$dir"
    mkdir -p "$VENV_ROOT"
    "$PYTHON" -m venv "$dir"
    if ! "$dir/bin/pip" install -q "$@" >"$dir.log" 2>&1; then cat "$dir.log" >&2; exit 1; fi
    echo "$want" > "$dir/.packages"
  fi
}

# RS_TEST_SKIP=debian,browser,data opts out of stacks this machine lacks; anything else missing fails.
skipping() { [[ ",${RS_TEST_SKIP:-}," == *",$1,"* ]]; }

MAIN_VENV=$VENV_ROOT/py
MAIN_VENV_PACKAGES=(grpcio==1.84.0 grpcio-tools==1.84.0 protobuf==7.36.2 numpy pytest tqdm matplotlib torch==2.13.0)

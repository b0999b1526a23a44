# Sourced by test-python.sh and benchmark.sh: where pip finds wheels, and venv() to make an
# environment once. MAIN_VENV_PACKAGES is .venv-py, the environment of the torch tests and examples.
root=$PWD
py=clients/python
# The machine's wheels; without them pip uses its usual index.
if [ -d /opt/pypi/simple ]; then
  export PIP_INDEX_URL=file:///opt/pypi/simple PIP_EXTRA_INDEX_URL=file:///opt/pypi-more/simple
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
PYTHON=${PYTHON:-python3}

venv() { # venv DIR PACKAGES...: creates DIR with PACKAGES unless it already has them
  local dir=$1; shift
  local want="$*"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.packages" 2>/dev/null)" != "$want" ]; then
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    if ! "$dir/bin/pip" install -q "$@" >"$dir.log" 2>&1; then cat "$dir.log" >&2; exit 1; fi
    echo "$want" > "$dir/.packages"
  fi
}

MAIN_VENV_PACKAGES=(grpcio==1.84.0 grpcio-tools==1.84.0 protobuf==7.36.2 numpy pytest tqdm matplotlib torch==2.13.0)

#!/usr/bin/env bash
# Run Stratus's tests: unit, API and functional.
#
#   tools/run-tests.sh [pytest arguments...]
#
# Uses the virtualenv $STRATUS_TEST_VENV (default .venv in the checkout),
# creating it with $PYTHON (default python3, >= 3.11) and installing the
# checkout with its [test] extras whenever setup.cfg/setup.py changed.  Runs
# the tests on 2 workers when pytest-xdist is installed ($STRATUS_TEST_WORKERS
# to change).  The functional tests start real daemons and need RabbitMQ on
# 127.0.0.1:5672 (.ci/run starts one when it is missing).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${STRATUS_TEST_VENV:-$REPO/.venv}
PYTHON=${PYTHON:-python3}
WORKERS=${STRATUS_TEST_WORKERS:-2}
STAMP=$VENV/.stratus-test-stamp

fail() {
    printf 'run-tests: ERROR: %s\n' "$*" >&2
    exit 1
}

cd "$REPO"

if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || fail "no $PYTHON found (set PYTHON=/path/to/python3.11)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        fail "Stratus needs Python >= 3.11; $PYTHON is $("$PYTHON" -V 2>&1)"
    echo "run-tests: creating virtualenv $VENV with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV" ||
        fail "could not create $VENV (on Debian: apt-get install python3-venv)"
fi

want=$(
    {
        cat setup.cfg setup.py 2>/dev/null
        printf '%s\n' "$REPO"
        "$VENV/bin/python" -V
    } | sha256sum | cut -c1-32
)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    echo "run-tests: installing ${REPO}[test] into $VENV"
    "$VENV/bin/python" -m pip install -q -e "${REPO}[test]" ||
        fail "pip install -e '${REPO}[test]' failed (see above)"
    printf '%s\n' "$want" >"$STAMP"
fi

# Console scripts (stratus-identity-api, openstack, ...) for the functional tests.
export PATH="$VENV/bin:$PATH"
export VIRTUAL_ENV="$VENV"

# Lint and types first: cheap, and CI should fail on them like on a test.
if [ -z "${STRATUS_SKIP_LINT:-}" ]; then
    echo "run-tests: ruff check ."
    "$VENV/bin/ruff" check . || fail "ruff found problems (see above)"
    echo "run-tests: mypy common identity image network compute objectstore blockstorage dashboard"
    "$VENV/bin/mypy" common identity image network compute objectstore blockstorage dashboard || fail "mypy found type errors (see above)"
fi

args=(tests/unit tests/api tests/functional -q -p no:cacheprovider)
if [ "$WORKERS" != 0 ] && [ "$WORKERS" != 1 ] && "$VENV/bin/python" -c 'import xdist' 2>/dev/null; then
    args+=(-n "$WORKERS")
fi

echo "run-tests: python -m pytest ${args[*]} $*"
rc=0
"$VENV/bin/python" -m pytest "${args[@]}" "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    fail "pytest collected no tests"
fi
exit "$rc"

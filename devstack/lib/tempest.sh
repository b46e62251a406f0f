#!/usr/bin/env bash
# shellcheck shell=bash
# Tempest against the cloud that devstack/stack.sh runs (`tox -e tempest`).
#
#   bash devstack/lib/tempest.sh [REGEX]
#
# Renders a tempest.conf from the running cloud ($STRATUS_HOME/openrc and its
# catalog) and runs Tempest's API tests of the services in the catalog.  Needs:
#   - a running cloud (sudo devstack/stack.sh)
#   - Tempest in $TEMPEST_VENV (default /opt/tempest-venv):
#       python3 -m venv /opt/tempest-venv && /opt/tempest-venv/bin/pip install tempest==47.0.0
# With $TEMPEST_TOOLS (default /work/shared/tempest, if it exists: a folder with
# tempest.conf.template, tools/render_conf.py, run_tempest.sh and
# acceptance_core_dev.txt) it runs that acceptance list (the part for the
# services in the catalog) and prints passed/failed/skipped per service;
# otherwise a minimal config and `tempest run --regex '^tempest\.api\.<svc>'`.
# REGEX, when given, replaces the test selection.  Results go to $OUT_DIR
# (default $STRATUS_HOME/logs/tempest-<time>).  CONCURRENCY defaults to 2.
# COMPUTE_MAX_MICROVERSION / VOLUME_MAX_MICROVERSION default to the cloud's.
set -euo pipefail

STRATUS_HOME=${STRATUS_HOME:-/opt/stratus}
TEMPEST_VENV=${TEMPEST_VENV:-/opt/tempest-venv}
TEMPEST_TOOLS=${TEMPEST_TOOLS:-/work/shared/tempest}
CONCURRENCY=${CONCURRENCY:-2}
OUT_DIR=${OUT_DIR:-$STRATUS_HOME/logs/tempest-$(date +%Y%m%d-%H%M%S)}
REGEX=${1:-}

fail() {
    printf 'tempest: ERROR: %s\n' "$*" >&2
    exit 1
}

[ -r "$STRATUS_HOME/openrc" ] ||
    fail "no $STRATUS_HOME/openrc: start the cloud first (sudo devstack/stack.sh), or set STRATUS_HOME"
[ -x "$TEMPEST_VENV/bin/tempest" ] ||
    fail "no Tempest in $TEMPEST_VENV: python3 -m venv $TEMPEST_VENV && $TEMPEST_VENV/bin/pip install tempest==47.0.0 (or set TEMPEST_VENV)"
# shellcheck source=/dev/null
source "$STRATUS_HOME/openrc"
openstack token issue -f value -c id >/dev/null ||
    fail "cannot get a token from $OS_AUTH_URL: is the cloud running? (sudo devstack/stack.sh)"

# Catalog service types -> Tempest's [service_available] names and test packages.
types=$(openstack catalog list -f value -c Type)
has() { grep -qxF "$1" <<<"$types"; }
avail() { if has "$1" || { [ -n "${2:-}" ] && has "$2"; }; then echo true; else echo false; fi; }
declare -A AVAILABLE=(
    [nova]=$(avail compute) [glance]=$(avail image) [neutron]=$(avail network)
    [cinder]=$(avail block-storage volumev3) [swift]=$(avail object-store)
)
packages=identity
[ "${AVAILABLE[nova]}" = true ] && packages+="|compute"
[ "${AVAILABLE[glance]}" = true ] && packages+="|image"
[ "${AVAILABLE[neutron]}" = true ] && packages+="|network"
[ "${AVAILABLE[cinder]}" = true ] && packages+="|volume"
[ "${AVAILABLE[swift]}" = true ] && packages+="|object_storage"

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
CONF=$OUT_DIR/tempest.conf
export IDENTITY_URI=$OS_AUTH_URL ADMIN_PASSWORD=$OS_PASSWORD ADMIN_USERNAME=$OS_USERNAME
export ADMIN_PROJECT=$OS_PROJECT_NAME REGION=$OS_REGION_NAME
if [ "${AVAILABLE[glance]}" = true ] && [ -z "${IMAGE_REF:-}" ]; then
    IMAGE_REF=$(openstack image list --status active -f value -c ID | head -n 1)
    IMAGE_REF_ALT=${IMAGE_REF_ALT:-$(openstack image list --status active -f value -c ID | sed -n 2p)}
    export IMAGE_REF IMAGE_REF_ALT=${IMAGE_REF_ALT:-$IMAGE_REF}
fi
if [ "${AVAILABLE[neutron]}" = true ] && [ -z "${PUBLIC_NETWORK_ID:-}" ]; then
    PUBLIC_NETWORK_ID=$(openstack network list --external -f value -c ID | head -n 1)
    export PUBLIC_NETWORK_ID
fi
# The cloud's own maximum microversions, unless given: with "latest" Tempest
# runs test classes that need more than the cloud has and they fail with 406.
max_microversion() {
    openstack versions show --service "$1" --status CURRENT -f value -c "Max Microversion" \
        2>/dev/null | head -n 1
}
if [ "${AVAILABLE[nova]}" = true ] && [ -z "${COMPUTE_MAX_MICROVERSION:-}" ]; then
    COMPUTE_MAX_MICROVERSION=$(max_microversion compute)
    export COMPUTE_MAX_MICROVERSION
fi
if [ "${AVAILABLE[cinder]}" = true ] && [ -z "${VOLUME_MAX_MICROVERSION:-}" ]; then
    VOLUME_MAX_MICROVERSION=$(max_microversion block-storage)
    export VOLUME_MAX_MICROVERSION
fi

# Set [service_available] from the catalog (the template says "true" for all).
set_available() {
    local k args=()
    for k in "${!AVAILABLE[@]}"; do args+=("$k=${AVAILABLE[$k]}"); done
    python3 - "$CONF" "${args[@]}" <<'PY'
import re, sys
path, pairs = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
out, section = [], None
for line in open(path).read().splitlines(True):
    m = re.match(r"\s*\[([^\]]+)\]", line)
    if m:
        section = m.group(1)
    m = re.match(r"\s*(\w+)\s*=", line)
    if section == "service_available" and m and m.group(1) in pairs:
        line = "%s = %s\n" % (m.group(1), pairs.pop(m.group(1)))
    out.append(line)
open(path, "w").write("".join(out))
PY
}

if [ -f "$TEMPEST_TOOLS/tempest.conf.template" ] && [ -x "$TEMPEST_TOOLS/run_tempest.sh" ]; then
    python3 "$TEMPEST_TOOLS/tools/render_conf.py" "$TEMPEST_TOOLS/tempest.conf.template" >"$CONF" 2>"$OUT_DIR/render.log"
    set_available
    LIST=$OUT_DIR/tests.txt
    if [ -n "$REGEX" ]; then
        # Listing needs a Tempest workspace (a .stestr.conf) to run in; it is
        # registered in a workspace file of this run's own (the default one,
        # ~/.tempest/workspace.yaml, refuses a second "list-workspace").
        [ -f "$OUT_DIR/list-workspace/.stestr.conf" ] ||
            "$TEMPEST_VENV/bin/tempest" init --workspace-path "$OUT_DIR/workspaces.yaml" \
                "$OUT_DIR/list-workspace" >>"$OUT_DIR/render.log" 2>&1 ||
            fail "tempest init $OUT_DIR/list-workspace failed (see $OUT_DIR/render.log)"
        (cd "$OUT_DIR/list-workspace" &&
            "$TEMPEST_VENV/bin/tempest" run --config-file "$CONF" --list-tests --regex "$REGEX") |
            grep '^tempest\.' >"$LIST" || true
    else
        grep -E "^tempest\.api\.($packages)\." "$TEMPEST_TOOLS/acceptance_core_dev.txt" >"$LIST" || true
    fi
    [ -s "$LIST" ] || fail "no tests selected (regex '${REGEX:-^tempest.api.($packages)}')"
    echo "tempest: $(wc -l <"$LIST") tests, config $CONF, results in $OUT_DIR"
    TEMPEST_VENV=$TEMPEST_VENV OUT_DIR=$OUT_DIR "$TEMPEST_TOOLS/run_tempest.sh" "$CONF" "$LIST" "$CONCURRENCY"
    # run_tempest.sh prints "N passed, N failed, N skipped"; fail on failures.
    if grep -Eq '(^|[^0-9])[1-9][0-9]* failed' "$OUT_DIR/summary.txt"; then exit 1; fi
else
    cat >"$CONF" <<EOF
[DEFAULT]
log_file = $OUT_DIR/tempest.log
[oslo_concurrency]
lock_path = $OUT_DIR/lock
[auth]
use_dynamic_credentials = true
admin_username = $ADMIN_USERNAME
admin_password = $ADMIN_PASSWORD
admin_project_name = $ADMIN_PROJECT
admin_domain_name = Default
admin_user_domain_name = Default
admin_project_domain_name = Default
[identity]
uri_v3 = $IDENTITY_URI
region = $REGION
v3_endpoint_type = public
admin_role = admin
default_domain_id = default
[identity-feature-enabled]
trust = false
api_extensions =
[service_available]
nova = true
glance = true
neutron = true
cinder = true
swift = true
horizon = false
[validation]
run_validation = false
EOF
    set_available
    echo "tempest: config $CONF, results in $OUT_DIR (no $TEMPEST_TOOLS: plain tempest run)"
    cd "$OUT_DIR"
    "$TEMPEST_VENV/bin/tempest" run --config-file "$CONF" --concurrency "$CONCURRENCY" \
        --regex "${REGEX:-^tempest\.api\.($packages)\.}"
fi

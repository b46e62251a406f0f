# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Compute (Nova v2.1 on port 8774): for now stratus-compute-api alone, over its
# own database (flavors, key pairs).
#
# Hooks (see lib/identity.sh): compute_configure writes $STRATUS_ETC/compute/,
# compute_init syncs the database and registers the catalog entry (service
# nova, type compute), compute_start starts the API, waits for it and creates
# the default flavors m1.tiny ... m1.xlarge through the REST API (idempotent).

COMPUTE_PORT=${COMPUTE_PORT:-8774}
COMPUTE_ETC=$STRATUS_ETC/compute
COMPUTE_CONF=$COMPUTE_ETC/compute.conf
COMPUTE_PASTE=$COMPUTE_ETC/api-paste.ini
COMPUTE_API_DAEMON=stratus-compute-api
COMPUTE_API_LOG=$STRATUS_LOGS/compute-api.log
COMPUTE_PUBLIC_URL=http://$SERVICE_HOST:$COMPUTE_PORT/v2.1
COMPUTE_LOCAL_URL=http://127.0.0.1:$COMPUTE_PORT
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/compute.sqlite.
DATABASE_URL_COMPUTE=${DATABASE_URL_COMPUTE:-}
COMPUTE_INIT_STAMP=$STRATUS_DATA/compute.init-stamp
# name:id:ram MiB:vcpus:disk GiB
COMPUTE_DEFAULT_FLAVORS=${COMPUTE_DEFAULT_FLAVORS:-"m1.tiny:1:128:1:1 m1.small:2:2048:1:20 m1.medium:3:4096:2:40 m1.large:4:8192:4:80 m1.xlarge:5:16384:8:160"}

compute_packages() { :; }

compute_configure() {
    is_service_enabled identity ||
        die "the compute service needs identity on this machine: ENABLED_SERVICES=\"identity image network compute\""
    mkdir -p "$COMPUTE_ETC"
    write_if_changed "$COMPUTE_CONF" 640 <<EOF2
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
debug = $STRATUS_DEBUG

[database]
$(if [ -n "$DATABASE_URL_COMPUTE" ]; then
    printf 'connection = %s' "$DATABASE_URL_COMPUTE"
else
    printf '# connection unset: SQLite file under state_path (compute.sqlite)'
fi)

[api]
bind_host = 0.0.0.0
bind_port = $COMPUTE_PORT
public_endpoint = http://$SERVICE_HOST:$COMPUTE_PORT

$(authtoken_section compute)
EOF2
    [ "$FILE_CHANGED" = 1 ] && info "wrote $COMPUTE_CONF"
    [ -f "$STRATUS_REPO/etc/compute/api-paste.ini" ] ||
        die "$STRATUS_REPO/etc/compute/api-paste.ini is missing from the checkout"
    write_if_changed "$COMPUTE_PASTE" 644 <"$STRATUS_REPO/etc/compute/api-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $COMPUTE_PASTE"
    return 0
}

# ---------------------------------------------------------------------------
# Database and catalog
# ---------------------------------------------------------------------------

compute_manage() {
    quiet "$(venv_bin stratus-manage)" compute --config-file "$COMPUTE_CONF" "$@"
}

_compute_init_hash() {
    {
        hash_files "$COMPUTE_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/compute" "$STRATUS_REPO/common"
        printf '%s\n' "$REGION_NAME" "$COMPUTE_PUBLIC_URL"
    } | sha256sum | cut -c1-32
}

compute_init() {
    if [ -z "$DATABASE_URL_COMPUTE" ] && [ -s "$STRATUS_DATA/compute.sqlite" ] &&
        [ -f "$COMPUTE_INIT_STAMP" ] && [ "$(cat "$COMPUTE_INIT_STAMP")" = "$(_compute_init_hash)" ]; then
        info "database is up to date; skipping db sync"
    else
        rm -f "$COMPUTE_INIT_STAMP"
        info "stratus-manage compute db sync"
        compute_manage db sync
        _compute_init_hash >"$COMPUTE_INIT_STAMP"
    fi
    ensure_catalog_service nova compute "Compute service" "$COMPUTE_PUBLIC_URL"
}

# ---------------------------------------------------------------------------
# Daemons and default flavors
# ---------------------------------------------------------------------------

# Create the flavors of $COMPUTE_DEFAULT_FLAVORS that do not exist yet (by name).
_compute_ensure_flavors() {
    local listing have spec name id ram vcpus disk body code
    rest_admin_token
    CURRENT_SEE_ALSO=$COMPUTE_API_LOG
    listing=$(rest_get "$COMPUTE_LOCAL_URL/v2.1/flavors?is_public=none") ||
        die "cannot list flavors at $COMPUTE_LOCAL_URL; see $COMPUTE_API_LOG"
    have=$(json_expr '[f["name"] for f in d["flavors"]]' <<<"$listing")
    for spec in $COMPUTE_DEFAULT_FLAVORS; do
        IFS=: read -r name id ram vcpus disk <<<"$spec"
        if grep -qxF "$name" <<<"$have"; then
            continue
        fi
        info "creating flavor $name ($ram MiB, $vcpus vCPU, $disk GiB)"
        body=$(printf '{"flavor": {"name": "%s", "id": "%s", "ram": %s, "vcpus": %s, "disk": %s}}' \
            "$name" "$id" "$ram" "$vcpus" "$disk")
        code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 \
            -H "X-Auth-Token: $REST_ADMIN_TOKEN" -H 'Content-Type: application/json' \
            --data-binary "$body" "$COMPUTE_LOCAL_URL/v2.1/flavors" 2>>"$STACK_LOG" || true)
        case $code in
            200 | 201) ;;
            409) info "flavor $name or id $id exists already; leaving it" ;;
            *) die "creating flavor $name got HTTP $code from $COMPUTE_LOCAL_URL/v2.1/flavors; see $COMPUTE_API_LOG" ;;
        esac
    done
    info "default flavors exist"
    CURRENT_SEE_ALSO=''
}

compute_start() {
    local fingerprint body
    fingerprint=$({
        hash_files "$COMPUTE_CONF" "$COMPUTE_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/compute" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    start_daemon "$COMPUTE_API_DAEMON" "$fingerprint" "$COMPUTE_API_LOG" "$COMPUTE_PORT" \
        "$(venv_bin "$COMPUTE_API_DAEMON")" --config-file "$COMPUTE_CONF" \
        --log-file "$COMPUTE_API_LOG"
    wait_for_http "$COMPUTE_API_DAEMON" "$COMPUTE_LOCAL_URL/healthcheck" "$COMPUTE_API_LOG"
    CURRENT_LOG=$COMPUTE_API_LOG
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    body=$(curl -sS --max-time 5 "$COMPUTE_LOCAL_URL/" 2>&1 || true)
    case $body in
        *'"v2.1"'*) ;;
        *) die "$COMPUTE_LOCAL_URL/ does not return the compute version list (got: ${body:0:200}); see $COMPUTE_API_LOG" ;;
    esac
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
    _compute_ensure_flavors
}

compute_summary() {
    say "  Compute API:   $COMPUTE_PUBLIC_URL   (log $COMPUTE_API_LOG; config $COMPUTE_CONF)"
    say "                 flavors: $(for s in $COMPUTE_DEFAULT_FLAVORS; do printf '%s ' "${s%%:*}"; done)"
}

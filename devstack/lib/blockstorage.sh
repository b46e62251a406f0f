# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Block storage (Cinder v3 on port 8776): stratus-blockstorage-api,
# -scheduler, -volume (one backend, the file driver: one sparse file per volume
# under $STRATUS_DATA/blockstorage/volumes) and -backup (backups in the object
# store, when it runs here) over the block storage database.
#
# Volumes reach the guests over iSCSI (tgt targets with CHAP; QEMU's own iSCSI
# client logs in), as on a cloud whose compute nodes are other machines;
# BLOCKSTORAGE_TARGET=file hands compute the volume's path instead (compute on
# this host only). The backup daemon reads the files here either way.
#
# Hooks (see lib/identity.sh): blockstorage_packages names qemu-utils (and tgt),
# blockstorage_configure writes $STRATUS_ETC/blockstorage/, blockstorage_init
# syncs the database (which makes the default volume type __DEFAULT__) and
# registers the catalog entries (service cinderv3 of type volumev3 and cinder
# of type block-storage, both at http://$SERVICE_HOST:8776/v3/%(project_id)s),
# blockstorage_start starts tgtd when asked, the RPC daemons and the API, then
# waits until the API lists the volume types and the volume daemon reports.

BLOCKSTORAGE_PORT=${BLOCKSTORAGE_PORT:-8776}
BLOCKSTORAGE_ETC=$STRATUS_ETC/blockstorage
BLOCKSTORAGE_CONF=$BLOCKSTORAGE_ETC/blockstorage.conf
BLOCKSTORAGE_PASTE=$BLOCKSTORAGE_ETC/api-paste.ini
BLOCKSTORAGE_DATA=$STRATUS_DATA/blockstorage
BLOCKSTORAGE_VOLUMES_DIR=$BLOCKSTORAGE_DATA/volumes
BLOCKSTORAGE_API_DAEMON=stratus-blockstorage-api
BLOCKSTORAGE_API_LOG=$STRATUS_LOGS/blockstorage-api.log
BLOCKSTORAGE_VOLUME_DAEMON=stratus-blockstorage-volume
# The backend this volume daemon serves (its services host is <host>@<backend>).
BLOCKSTORAGE_BACKEND=${BLOCKSTORAGE_BACKEND:-file}
# iscsi: tgt targets with CHAP; file: the volume's path (compute on this host).
BLOCKSTORAGE_TARGET=${BLOCKSTORAGE_TARGET:-iscsi}
BLOCKSTORAGE_PUBLIC_URL=http://$SERVICE_HOST:$BLOCKSTORAGE_PORT
BLOCKSTORAGE_LOCAL_URL=http://127.0.0.1:$BLOCKSTORAGE_PORT
# The catalog's URL: keystone fills in the project of the token.
BLOCKSTORAGE_CATALOG_URL="$BLOCKSTORAGE_PUBLIC_URL/v3/%(project_id)s"
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/blockstorage.sqlite.
DATABASE_URL_BLOCKSTORAGE=${DATABASE_URL_BLOCKSTORAGE:-}
BLOCKSTORAGE_INIT_STAMP=$STRATUS_DATA/blockstorage.init-stamp

# The RPC daemons (the backup daemon only with the object store, where backups go).
_blockstorage_rpc_daemons() {
    printf '%s\n' stratus-blockstorage-scheduler "$BLOCKSTORAGE_VOLUME_DAEMON"
    if is_service_enabled objectstore; then printf '%s\n' stratus-blockstorage-backup; fi
}

# _blockstorage_log DAEMON: its log file (blockstorage-<part>.log).
_blockstorage_log() { printf '%s/blockstorage-%s.log' "$STRATUS_LOGS" "${1#stratus-blockstorage-}"; }

blockstorage_packages() {
    printf '%s\n' qemu-utils
    if [ "$BLOCKSTORAGE_TARGET" = iscsi ]; then printf '%s\n' tgt; fi
}

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

# _blockstorage_client_section GROUP: keystoneauth credentials of the cinder user.
_blockstorage_client_section() {
    cat <<EOF
[$1]
auth_url = $IDENTITY_PUBLIC_URL
auth_type = password
username = ${SERVICE_USER_OF[blockstorage]}
password = $SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = $REGION_NAME
EOF
}

# _blockstorage_endpoint_section GROUP: how a client finds its service in the catalog.
_blockstorage_endpoint_section() {
    printf '[%s]\nregion_name = %s\nvalid_interfaces = internal,public\n' "$1" "$REGION_NAME"
}

blockstorage_configure() {
    is_service_enabled identity ||
        die "block storage needs identity on this machine: ENABLED_SERVICES=\"identity image blockstorage\""
    case $BLOCKSTORAGE_TARGET in
        file | iscsi) ;;
        *) die "BLOCKSTORAGE_TARGET must be file or iscsi, not '$BLOCKSTORAGE_TARGET'" ;;
    esac
    mkdir -p "$BLOCKSTORAGE_ETC" "$BLOCKSTORAGE_VOLUMES_DIR" "$BLOCKSTORAGE_DATA/conversion"
    # The log file is given per daemon on the command line (--log-file): all four
    # daemons read this one file.
    write_if_changed "$BLOCKSTORAGE_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL
host = $(hostname)
default_volume_type = __DEFAULT__
storage_availability_zone = nova

[database]
$(if [ -n "$DATABASE_URL_BLOCKSTORAGE" ]; then
    printf 'connection = %s' "$DATABASE_URL_BLOCKSTORAGE"
else
    printf '# connection unset: SQLite file under state_path (blockstorage.sqlite)'
fi)

[api]
bind_host = 0.0.0.0
bind_port = $BLOCKSTORAGE_PORT
public_endpoint = $BLOCKSTORAGE_PUBLIC_URL

[volume]
volume_driver = file
backend_name = $BLOCKSTORAGE_BACKEND
file_volumes_dir = $BLOCKSTORAGE_VOLUMES_DIR
file_volume_format = raw
image_conversion_dir = $BLOCKSTORAGE_DATA/conversion
target_protocol = $BLOCKSTORAGE_TARGET
target_ip_address = $SERVICE_HOST

[backup]
backup_driver = objectstore
backup_container = volumebackups

$(authtoken_section blockstorage)

# The block storage service's own credentials for its calls to image and the
# object store (with the user's token, as a service token).
$(_blockstorage_client_section service_user)

$(_blockstorage_endpoint_section glance)

$(_blockstorage_endpoint_section swift)
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $BLOCKSTORAGE_CONF"
    [ -f "$STRATUS_REPO/etc/blockstorage/api-paste.ini" ] ||
        die "$STRATUS_REPO/etc/blockstorage/api-paste.ini is missing from the checkout"
    write_if_changed "$BLOCKSTORAGE_PASTE" 644 <"$STRATUS_REPO/etc/blockstorage/api-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $BLOCKSTORAGE_PASTE"
    return 0
}

# ---------------------------------------------------------------------------
# Database and catalog
# ---------------------------------------------------------------------------

blockstorage_manage() {
    quiet "$(venv_bin stratus-manage)" blockstorage --config-file "$BLOCKSTORAGE_CONF" "$@"
}

_blockstorage_init_hash() {
    {
        hash_files "$BLOCKSTORAGE_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/blockstorage/db" "$STRATUS_REPO/common/db"
        printf '%s\n' "$REGION_NAME" "$BLOCKSTORAGE_CATALOG_URL"
    } | sha256sum | cut -c1-32
}

blockstorage_init() {
    if [ -z "$DATABASE_URL_BLOCKSTORAGE" ] && [ -s "$STRATUS_DATA/blockstorage.sqlite" ] &&
        [ -f "$BLOCKSTORAGE_INIT_STAMP" ] &&
        [ "$(cat "$BLOCKSTORAGE_INIT_STAMP")" = "$(_blockstorage_init_hash)" ]; then
        info "database is up to date; skipping db sync"
    else
        rm -f "$BLOCKSTORAGE_INIT_STAMP"
        info "stratus-manage blockstorage db sync"
        blockstorage_manage db sync
        _blockstorage_init_hash >"$BLOCKSTORAGE_INIT_STAMP"
    fi
    # Two types, one endpoint: the openstack client and compute look for volumev3,
    # Tempest and newer SDKs for block-storage.
    ensure_catalog_service cinderv3 volumev3 "Block storage service" "$BLOCKSTORAGE_CATALOG_URL"
    ensure_catalog_service cinder block-storage "Block storage service" "$BLOCKSTORAGE_CATALOG_URL"
}

# ---------------------------------------------------------------------------
# Daemons
# ---------------------------------------------------------------------------

# tgtd (no systemd here: started by hand, once) for BLOCKSTORAGE_TARGET=iscsi.
_blockstorage_start_tgtd() {
    local waited=0
    [ "$BLOCKSTORAGE_TARGET" = iscsi ] || return 0
    command -v tgtd >/dev/null 2>&1 || die "tgtd is missing (apt-get install tgt)"
    if ! pgrep -x tgtd >/dev/null 2>&1; then
        info "starting tgtd"
        # 9>&-: stack.sh's lock must not be inherited by daemons that outlive it.
        tgtd 9>&- >>"$STACK_LOG" 2>&1 || die "tgtd did not start; see $STACK_LOG"
    fi
    while ! tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1; do
        [ "$waited" -lt 100 ] || die "tgtd does not answer tgtadm after 10 s"
        sleep 0.1
        waited=$((waited + 1))
    done
    info "tgtd answers (iSCSI portal $SERVICE_HOST:3260)"
}

# The id of the admin token's project (the installer's probes use its URLs).
_blockstorage_admin_project() {
    curl -fsS --max-time 30 -H "X-Auth-Token: $REST_ADMIN_TOKEN" \
        -H "X-Subject-Token: $REST_ADMIN_TOKEN" "$IDENTITY_LOCAL_URL/v3/auth/tokens" |
        json_expr 'd["token"]["project"]["id"]'
}

# _blockstorage_check_rpc_daemons: each RPC daemon still runs (they fail at start
# on a bad config, the database or the broker).
_blockstorage_check_rpc_daemons() {
    local daemon
    for daemon in $(_blockstorage_rpc_daemons); do
        daemon_pid "$daemon" >/dev/null || {
            rm -f "$STRATUS_RUN/$daemon.fingerprint"
            CURRENT_LOG=$(_blockstorage_log "$daemon")
            die "$daemon exited right after it started; see $(_blockstorage_log "$daemon")"
        }
    done
}

# Wait until the API lists the volume types (token validation as the cinder
# user, the database) with __DEFAULT__ among them, and the services API shows
# each RPC daemon up (the volume daemon's heartbeat and capacity report).
_blockstorage_wait_ready() {
    local project url listing start state binary missing=''
    rest_admin_token
    project=$(_blockstorage_admin_project) || die "cannot read the admin token's project from identity"
    url=$BLOCKSTORAGE_LOCAL_URL/v3/$project
    start=$(now_ms)
    CURRENT_LOG=$BLOCKSTORAGE_API_LOG
    CURRENT_SEE_ALSO=$(_blockstorage_log "$BLOCKSTORAGE_VOLUME_DAEMON")
    while :; do
        daemon_pid "$BLOCKSTORAGE_API_DAEMON" >/dev/null ||
            die "$BLOCKSTORAGE_API_DAEMON exited; see $BLOCKSTORAGE_API_LOG"
        _blockstorage_check_rpc_daemons
        missing=''
        listing=$(rest_get "$url/types" 2>/dev/null || true)
        case $listing in
            *'"__DEFAULT__"'*) ;;
            *) missing="the volume type __DEFAULT__ (GET $url/types: ${listing:0:160})" ;;
        esac
        if [ -z "$missing" ]; then
            listing=$(rest_get "$url/os-services" 2>/dev/null || true)
            for binary in $(_blockstorage_rpc_daemons); do
                # By the part of the name (stratus-blockstorage-volume, cinder-volume).
                state=''
                [ -z "$listing" ] || state=$(json_expr "[s.get('state') for s in d.get('services', []) if str(s.get('binary')).endswith('-${binary##*-}')]" \
                    <<<"$listing" 2>/dev/null | head -n 1 || true)
                [ "$state" = up ] || missing+="${missing:+, }$binary up in os-services"
            done
        fi
        [ -z "$missing" ] && break
        if [ $(($(now_ms) - start)) -ge $((SERVICE_TIMEOUT * 1000)) ]; then
            die "block storage is not ready after ${SERVICE_TIMEOUT}s: still waiting for $missing; see $BLOCKSTORAGE_API_LOG and $STRATUS_LOGS/blockstorage-*.log"
        fi
        sleep 0.3
    done
    info "the API lists volume types; $(_blockstorage_rpc_daemons | sed 's/^stratus-blockstorage-//' | paste -sd ' ' -) report up ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
    CURRENT_SEE_ALSO=''
}

blockstorage_start() {
    local fingerprint daemon log
    fingerprint=$({
        hash_files "$BLOCKSTORAGE_CONF" "$BLOCKSTORAGE_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/blockstorage" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    mkdir -p "$BLOCKSTORAGE_VOLUMES_DIR" "$BLOCKSTORAGE_DATA/conversion"
    _blockstorage_start_tgtd
    # A backup daemon left from a run with the object store: not wanted now.
    is_service_enabled objectstore || stop_daemon stratus-blockstorage-backup
    for daemon in $(_blockstorage_rpc_daemons); do
        log=$(_blockstorage_log "$daemon")
        [ -x "$(venv_bin "$daemon")" ] ||
            die "$(venv_bin "$daemon") is missing: is $daemon in setup.cfg's console_scripts (then re-run, which reinstalls)?"
        start_daemon "$daemon" "$fingerprint" "$log" - \
            "$(venv_bin "$daemon")" --config-file "$BLOCKSTORAGE_CONF" --log-file "$log"
        printf '%s\n' "$fingerprint" >"$STRATUS_RUN/$daemon.fingerprint"
        rm -f "$STRATUS_RUN/$daemon.fingerprint.pending"
    done
    start_daemon "$BLOCKSTORAGE_API_DAEMON" "$fingerprint" "$BLOCKSTORAGE_API_LOG" \
        "$BLOCKSTORAGE_PORT" "$(venv_bin "$BLOCKSTORAGE_API_DAEMON")" \
        --config-file "$BLOCKSTORAGE_CONF" --log-file "$BLOCKSTORAGE_API_LOG"
    wait_for_http "$BLOCKSTORAGE_API_DAEMON" "$BLOCKSTORAGE_LOCAL_URL/healthcheck" \
        "$BLOCKSTORAGE_API_LOG"
    _blockstorage_wait_ready
}

blockstorage_summary() {
    say "  Block storage: $BLOCKSTORAGE_PUBLIC_URL/v3/<project id>   (log $BLOCKSTORAGE_API_LOG; config $BLOCKSTORAGE_CONF)"
    say "                 backend $BLOCKSTORAGE_BACKEND: file driver in $BLOCKSTORAGE_VOLUMES_DIR, exported as $BLOCKSTORAGE_TARGET$(is_service_enabled objectstore && printf '; backups in the object store' || printf '; no backups (the object store is not enabled)')"
    say "                 daemons: api, $(_blockstorage_rpc_daemons | sed 's/^stratus-blockstorage-//' | paste -sd ' ' -); logs $STRATUS_LOGS/blockstorage-*.log"
    say "                 try: source $STRATUS_HOME/openrc.demo; stratus volume create --size 1 --wait v1; stratus volume list"
}

# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Compute (Nova v2.1 on port 8774): stratus-compute-api, -conductor,
# -scheduler, -metadata (8775) over the compute database, and one
# stratus-compute-node (no database credentials) driving libvirt/QEMU
# (VIRT_DRIVER=libvirt, the default: TCG where KVM cannot run ordinary guests)
# or the in-memory fake driver (VIRT_DRIVER=fake).
#
# Hooks (see lib/identity.sh): compute_packages names libvirt and QEMU,
# compute_configure writes $STRATUS_ETC/compute/, compute_init syncs the
# database and registers the catalog entry (service nova, type compute),
# compute_start starts libvirtd/virtlogd (libvirt driver) and the daemons,
# waits for the node's first heartbeat and creates the default flavors
# m1.tiny ... m1.xlarge through the REST API (idempotent).

COMPUTE_PORT=${COMPUTE_PORT:-8774}
COMPUTE_ETC=$STRATUS_ETC/compute
COMPUTE_CONF=$COMPUTE_ETC/compute.conf
COMPUTE_PASTE=$COMPUTE_ETC/api-paste.ini
COMPUTE_API_DAEMON=stratus-compute-api
COMPUTE_API_LOG=$STRATUS_LOGS/compute-api.log
COMPUTE_METADATA_PORT=${COMPUTE_METADATA_PORT:-8775}
# The RPC daemons: name, log.
COMPUTE_RPC_DAEMONS=(stratus-compute-conductor stratus-compute-scheduler stratus-compute-node)
COMPUTE_METADATA_DAEMON=stratus-compute-metadata
COMPUTE_NOVNC_DAEMON=stratus-compute-novncproxy
COMPUTE_NOVNC_PORT=${COMPUTE_NOVNC_PORT:-6080}
VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
# auto: KVM where /dev/kvm runs ordinary guests, QEMU (TCG) otherwise.
LIBVIRT_TYPE=${LIBVIRT_TYPE:-auto}
COMPUTE_INSTANCES_PATH=$STRATUS_DATA/instances
COMPUTE_PUBLIC_URL=http://$SERVICE_HOST:$COMPUTE_PORT/v2.1
COMPUTE_LOCAL_URL=http://127.0.0.1:$COMPUTE_PORT
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/compute.sqlite.
DATABASE_URL_COMPUTE=${DATABASE_URL_COMPUTE:-}
COMPUTE_INIT_STAMP=$STRATUS_DATA/compute.init-stamp
# name:id:ram MiB:vcpus:disk GiB
COMPUTE_DEFAULT_FLAVORS=${COMPUTE_DEFAULT_FLAVORS:-"m1.tiny:1:128:1:1 m1.small:2:2048:1:20 m1.medium:3:4096:2:40 m1.large:4:8192:4:80 m1.xlarge:5:16384:8:160"}

compute_packages() {
    printf '%s\n' qemu-utils
    if [ "$VIRT_DRIVER" = libvirt ]; then
        printf '%s\n' libvirt-daemon-system qemu-system-x86 qemu-block-extra novnc
    fi
}

# client_section GROUP: a keystoneauth section with compute's service user, for
# its calls to the image, network and block storage services.
_compute_client_section() {
    cat <<EOF2
[$1]
auth_url = $IDENTITY_PUBLIC_URL
auth_type = password
username = ${SERVICE_USER_OF[compute]}
password = $SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = $REGION_NAME
EOF2
}

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
transport_url = $TRANSPORT_URL
host = $(hostname)

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

[compute]
compute_driver = $VIRT_DRIVER

[libvirt]
virt_type = $LIBVIRT_TYPE
instances_path = $COMPUTE_INSTANCES_PATH

[vnc]
novncproxy_port = $COMPUTE_NOVNC_PORT
novncproxy_base_url = http://$SERVICE_HOST:$COMPUTE_NOVNC_PORT/vnc_lite.html

[metadata]
bind_host = 0.0.0.0
bind_port = $COMPUTE_METADATA_PORT
metadata_proxy_shared_secret = $METADATA_PROXY_SHARED_SECRET

$(authtoken_section compute)

$(_compute_client_section service_user)

$(_compute_client_section glance)

$(_compute_client_section neutron)

$(_compute_client_section cinder)

[oslo_messaging_notifications]
driver = messagingv2
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

# libvirtd and virtlogd (no systemd here: started by hand, once).
_compute_start_libvirt() {
    local waited=0
    [ "$VIRT_DRIVER" = libvirt ] || return 0
    command -v libvirtd >/dev/null 2>&1 || die "libvirtd is missing (apt-get install libvirt-daemon-system)"
    kvm_device_access
    if ! pgrep -x virtlogd >/dev/null 2>&1; then
        info "starting virtlogd"
        # 9>&-: stack.sh's lock must not be inherited by daemons that outlive it.
        virtlogd -d 9>&- || die "virtlogd did not start"
    fi
    if ! pgrep -x libvirtd >/dev/null 2>&1; then
        info "starting libvirtd"
        libvirtd -d 9>&- || die "libvirtd did not start"
    fi
    while ! virsh -c qemu:///system version >/dev/null 2>&1; do
        [ "$waited" -lt 300 ] || die "libvirtd does not answer on qemu:///system after 30 s"
        sleep 0.1
        waited=$((waited + 1))
    done
    info "libvirtd answers ($(virsh -c qemu:///system version 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"
}

# Wait until the compute node has reported itself (os-hypervisors lists it).
_compute_wait_node() {
    local waited=0 listing
    rest_admin_token
    while :; do
        listing=$(rest_get "$COMPUTE_LOCAL_URL/v2.1/os-hypervisors" 2>/dev/null || true)
        case $listing in *hypervisor_hostname*) break ;; esac
        [ "$waited" -lt 600 ] ||
            die "the compute node did not report to the conductor within 60 s; see $STRATUS_LOGS/compute-node.log"
        sleep 0.1
        waited=$((waited + 1))
    done
    info "compute node $(hostname) reported ($VIRT_DRIVER driver)"
}

compute_start() {
    local fingerprint body daemon log
    fingerprint=$({
        hash_files "$COMPUTE_CONF" "$COMPUTE_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/compute" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    mkdir -p "$COMPUTE_INSTANCES_PATH"
    _compute_start_libvirt
    for daemon in "${COMPUTE_RPC_DAEMONS[@]}"; do
        log=$STRATUS_LOGS/${daemon#stratus-}.log
        start_daemon "$daemon" "$fingerprint" "$log" - \
            "$(venv_bin "$daemon")" --config-file "$COMPUTE_CONF" --log-file "$log"
        printf '%s\n' "$fingerprint" >"$STRATUS_RUN/$daemon.fingerprint"
        rm -f "$STRATUS_RUN/$daemon.fingerprint.pending"
    done
    log=$STRATUS_LOGS/compute-metadata.log
    start_daemon "$COMPUTE_METADATA_DAEMON" "$fingerprint" "$log" "$COMPUTE_METADATA_PORT" \
        "$(venv_bin "$COMPUTE_METADATA_DAEMON")" --config-file "$COMPUTE_CONF" --log-file "$log"
    wait_for_http "$COMPUTE_METADATA_DAEMON" "http://127.0.0.1:$COMPUTE_METADATA_PORT/healthcheck" "$log"
    log=$STRATUS_LOGS/compute-novncproxy.log
    start_daemon "$COMPUTE_NOVNC_DAEMON" "$fingerprint" "$log" "$COMPUTE_NOVNC_PORT" \
        "$(venv_bin "$COMPUTE_NOVNC_DAEMON")" --config-file "$COMPUTE_CONF" --log-file "$log"
    wait_for_http "$COMPUTE_NOVNC_DAEMON" "http://127.0.0.1:$COMPUTE_NOVNC_PORT/vnc_lite.html" "$log"
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
    _compute_wait_node
}

compute_summary() {
    say "  Compute API:   $COMPUTE_PUBLIC_URL   (log $COMPUTE_API_LOG; config $COMPUTE_CONF)"
    say "                 flavors: $(for s in $COMPUTE_DEFAULT_FLAVORS; do printf '%s ' "${s%%:*}"; done)"
    say "                 daemons: conductor, scheduler, node ($VIRT_DRIVER driver), metadata (:$COMPUTE_METADATA_PORT), noVNC proxy (:$COMPUTE_NOVNC_PORT); logs $STRATUS_LOGS/compute-*.log"
}

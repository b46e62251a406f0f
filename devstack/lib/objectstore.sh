# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Object store (Swift v1 on port 8080): stratus-objectstore-proxy in front of
# the account (6202), container (6201) and object (6200) servers on 127.0.0.1,
# and the background daemons (replicator, auditor, updater, reaper). One node
# with three devices d1 d2 d3 and three replicas; the state is files only.
#
# Hooks (see lib/identity.sh): objectstore_configure writes
# $STRATUS_ETC/objectstore/ (objectstore.conf, proxy-paste.ini) and prepares the
# devices (plain directories, or loop-mounted ext4 images when the state
# directory's filesystem has no user xattrs); objectstore_init builds the rings
# once and registers the catalog entry (service swift, type object-store) and
# the ResellerAdmin role; objectstore_start starts the eight daemons and waits
# until the proxy serves an account. unstack.sh unmounts the loop devices
# (objectstore_unmount).

OBJECTSTORE_PORT=${OBJECTSTORE_PORT:-8080}
OBJECTSTORE_ETC=$STRATUS_ETC/objectstore
OBJECTSTORE_CONF=$OBJECTSTORE_ETC/objectstore.conf
OBJECTSTORE_PASTE=$OBJECTSTORE_ETC/proxy-paste.ini
# Rings and builders ([objectstore] swift_dir), and the devices under node/.
OBJECTSTORE_DATA=$STRATUS_DATA/objectstore
OBJECTSTORE_DEVICES=$OBJECTSTORE_DATA/node
OBJECTSTORE_DEVICE_NAMES=${OBJECTSTORE_DEVICE_NAMES:-d1 d2 d3}
# The loop-mounted filesystem images (only where user xattrs are missing).
OBJECTSTORE_DISKS=$OBJECTSTORE_DATA/disks
OBJECTSTORE_DISK_SIZE=${OBJECTSTORE_DISK_SIZE:-2G}
# The placement salt: made once, never changed (data would be lost).
OBJECTSTORE_SUFFIX_FILE=$OBJECTSTORE_DATA/hash_path_suffix
OBJECTSTORE_PART_POWER=${OBJECTSTORE_PART_POWER:-10}
OBJECTSTORE_REPLICAS=${OBJECTSTORE_REPLICAS:-3}
OBJECTSTORE_MIN_PART_HOURS=${OBJECTSTORE_MIN_PART_HOURS:-1}
# ring name:port of its servers
OBJECTSTORE_RINGS="account:6202 container:6201 object:6200"
OBJECTSTORE_PROXY_DAEMON=stratus-objectstore-proxy
OBJECTSTORE_PROXY_LOG=$STRATUS_LOGS/objectstore-proxy.log
# The storage servers: daemon:port.
OBJECTSTORE_SERVERS="stratus-objectstore-account:6202 stratus-objectstore-container:6201 stratus-objectstore-object:6200"
OBJECTSTORE_BACKGROUND="stratus-objectstore-replicator stratus-objectstore-auditor stratus-objectstore-updater stratus-objectstore-reaper"
OBJECTSTORE_PUBLIC_URL=http://$SERVICE_HOST:$OBJECTSTORE_PORT
OBJECTSTORE_LOCAL_URL=http://127.0.0.1:$OBJECTSTORE_PORT
# The catalog's URL: keystone fills in the project of the token.
OBJECTSTORE_CATALOG_URL="$OBJECTSTORE_PUBLIC_URL/v1/AUTH_%(project_id)s"

objectstore_packages() { echo e2fsprogs util-linux; }

# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------

# _objectstore_xattr_ok DIR: files in DIR can carry user xattrs.
_objectstore_xattr_ok() {
    "$STRATUS_VENV/bin/python" - "$1" <<'PY' 2>>"$STACK_LOG"
import os, sys, tempfile
fd, path = tempfile.mkstemp(prefix=".xattr-probe-", dir=sys.argv[1])
try:
    os.setxattr(path, "user.stratus.probe", b"1")
finally:
    os.close(fd)
    os.unlink(path)
PY
}

# True when the devices are loop-mounted images (decided once, by the first run).
_objectstore_uses_loop() {
    compgen -G "$OBJECTSTORE_DISKS/*.img" >/dev/null
}

# _objectstore_mount_disk NAME: the ext4 image NAME.img mounted on the device NAME
# (made and formatted the first time).
_objectstore_mount_disk() {
    local name=$1 img=$OBJECTSTORE_DISKS/$1.img dir=$OBJECTSTORE_DEVICES/$1
    mkdir -p "$dir"
    mountpoint -q "$dir" && return 0
    if [ ! -f "$img" ]; then
        info "making $img ($OBJECTSTORE_DISK_SIZE sparse ext4)"
        truncate -s "$OBJECTSTORE_DISK_SIZE" "$img.tmp"
        quiet mkfs.ext4 -q -F -L "stratus-$name" "$img.tmp"
        mv -f "$img.tmp" "$img"
    fi
    quiet mount -o loop,user_xattr,noatime "$img" "$dir" ||
        die "cannot loop-mount $img on $dir (is the loop module available? see $STACK_LOG)"
    info "mounted $img on $dir"
}

# The devices d1 d2 d3: directories where the state directory's filesystem keeps
# user xattrs, else loop-mounted ext4 images (with [objectstore] mount_check on,
# so that an unmounted device is never written to the root filesystem).
_objectstore_devices() {
    local name
    mkdir -p "$OBJECTSTORE_DEVICES"
    if ! _objectstore_uses_loop && _objectstore_xattr_ok "$OBJECTSTORE_DEVICES"; then
        for name in $OBJECTSTORE_DEVICE_NAMES; do mkdir -p "$OBJECTSTORE_DEVICES/$name"; done
        OBJECTSTORE_MOUNT_CHECK=false
        info "devices $OBJECTSTORE_DEVICE_NAMES: directories in $OBJECTSTORE_DEVICES (user xattrs work there)"
        return 0
    fi
    _objectstore_uses_loop ||
        info "$OBJECTSTORE_DEVICES has no user xattrs: using loop-mounted ext4 images in $OBJECTSTORE_DISKS"
    command -v mkfs.ext4 >/dev/null 2>&1 || die "mkfs.ext4 is missing (apt-get install e2fsprogs)"
    mkdir -p "$OBJECTSTORE_DISKS"
    for name in $OBJECTSTORE_DEVICE_NAMES; do _objectstore_mount_disk "$name"; done
    OBJECTSTORE_MOUNT_CHECK=true
    for name in $OBJECTSTORE_DEVICE_NAMES; do
        _objectstore_xattr_ok "$OBJECTSTORE_DEVICES/$name" ||
            die "user xattrs do not work on the loop-mounted $OBJECTSTORE_DEVICES/$name either; see $STACK_LOG"
    done
}

# Unmount the loop-mounted devices (unstack.sh; the images and their data stay).
objectstore_unmount() {
    local name dir img unmounted=0
    for name in $OBJECTSTORE_DEVICE_NAMES; do
        dir=$OBJECTSTORE_DEVICES/$name
        img=$OBJECTSTORE_DISKS/$name.img
        if [ -f "$img" ] && mountpoint -q "$dir" 2>/dev/null; then
            umount "$dir" && unmounted=$((unmounted + 1))
        fi
        # A loop device left attached to the image (mount -o loop detaches its own).
        if [ -f "$img" ] && command -v losetup >/dev/null 2>&1; then
            { losetup -j "$img" -O NAME -n 2>/dev/null || true; } | while read -r dev; do
                losetup -d "$dev" 2>/dev/null || true
            done
        fi
    done
    [ "$unmounted" -gt 0 ] && say "Unmounted $unmounted object store device(s) in $OBJECTSTORE_DEVICES."
    return 0
}

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

# The hash path suffix: random the first time, then kept (as the rings and data).
_objectstore_suffix() {
    if [ ! -s "$OBJECTSTORE_SUFFIX_FILE" ]; then
        install -m 600 /dev/null "$OBJECTSTORE_SUFFIX_FILE.tmp"
        od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$OBJECTSTORE_SUFFIX_FILE.tmp"
        mv -f "$OBJECTSTORE_SUFFIX_FILE.tmp" "$OBJECTSTORE_SUFFIX_FILE"
        info "made the hash path suffix ($OBJECTSTORE_SUFFIX_FILE; it must never change)" >&2
    fi
    cat "$OBJECTSTORE_SUFFIX_FILE"
}

# _objectstore_server_section GROUP PORT
_objectstore_server_section() {
    printf '[%s]\nbind_host = 127.0.0.1\nbind_port = %s\n' "$1" "$2"
}

objectstore_configure() {
    local suffix
    is_service_enabled identity ||
        die "the object store needs identity on this machine: ENABLED_SERVICES=\"identity objectstore\""
    mkdir -p "$OBJECTSTORE_ETC" "$OBJECTSTORE_DATA"
    suffix=$(_objectstore_suffix)
    _objectstore_devices
    # The log file is given per daemon on the command line (--log-file).
    write_if_changed "$OBJECTSTORE_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
debug = $STRATUS_DEBUG

[api]
bind_host = 0.0.0.0
bind_port = $OBJECTSTORE_PORT
public_endpoint = $OBJECTSTORE_PUBLIC_URL
api_paste_config = proxy-paste.ini

[objectstore]
swift_dir = $OBJECTSTORE_DATA
devices = $OBJECTSTORE_DEVICES
mount_check = $OBJECTSTORE_MOUNT_CHECK
hash_path_suffix = $suffix

$(_objectstore_server_section account_server 6202)

$(_objectstore_server_section container_server 6201)

$(_objectstore_server_section object_server 6200)

# One small host: a replication pass every 5 minutes rather than every 30 s (a
# pass asks every partition's peers for their hashes; with a few thousand
# partitions that alone kept most of a core busy).
[replicator]
interval = ${OBJECTSTORE_REPLICATOR_INTERVAL:-300}

$(authtoken_section objectstore)
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $OBJECTSTORE_CONF"
    [ -f "$STRATUS_REPO/etc/objectstore/proxy-paste.ini" ] ||
        die "$STRATUS_REPO/etc/objectstore/proxy-paste.ini is missing from the checkout"
    write_if_changed "$OBJECTSTORE_PASTE" 644 <"$STRATUS_REPO/etc/objectstore/proxy-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $OBJECTSTORE_PASTE"
    return 0
}

# ---------------------------------------------------------------------------
# Rings, roles and catalog
# ---------------------------------------------------------------------------

objectstore_manage() {
    quiet "$(venv_bin stratus-manage)" objectstore --config-file "$OBJECTSTORE_CONF" "$@"
}

# Build each ring whose builder does not exist yet: create, add the three
# devices, rebalance (which writes <ring>.ring.gz), in a scratch directory whose
# files are then moved in place, so an existing builder is always a whole one.
# An existing builder is left alone (no needless rebalance); a missing ring file
# is written from it again.
_objectstore_rings() {
    local spec ring port name builder scratch=$OBJECTSTORE_DATA/.ring-build built=''
    for spec in $OBJECTSTORE_RINGS; do
        ring=${spec%%:*}
        port=${spec##*:}
        if [ -f "$OBJECTSTORE_DATA/$ring.builder" ]; then
            if [ ! -f "$OBJECTSTORE_DATA/$ring.ring.gz" ]; then
                info "$ring.ring.gz is missing: writing it from its builder"
                objectstore_manage ring write-ring "$OBJECTSTORE_DATA/$ring.builder"
            fi
            continue
        fi
        rm -rf "$scratch"
        mkdir -p "$scratch"
        builder=$scratch/$ring.builder
        objectstore_manage ring create "$builder" "$OBJECTSTORE_PART_POWER" \
            "$OBJECTSTORE_REPLICAS" "$OBJECTSTORE_MIN_PART_HOURS"
        for name in $OBJECTSTORE_DEVICE_NAMES; do
            objectstore_manage ring add "$builder" "r1z1-127.0.0.1:$port/$name" 100
        done
        objectstore_manage ring rebalance "$builder"
        mv -f "$scratch/$ring.ring.gz" "$OBJECTSTORE_DATA/$ring.ring.gz"
        mv -f "$builder" "$OBJECTSTORE_DATA/$ring.builder"
        built+="${built:+ }$ring"
    done
    rm -rf "$scratch"
    if [ -n "$built" ]; then
        info "built rings: $built (2^$OBJECTSTORE_PART_POWER partitions, $OBJECTSTORE_REPLICAS replicas on $OBJECTSTORE_DEVICE_NAMES)"
    else
        info "rings exist in $OBJECTSTORE_DATA; left as they are"
    fi
}

# The ResellerAdmin role (keystoneauth lets it act on every account). The
# member role comes from the identity bootstrap, and the accounts step gives it
# to the demo user on project demo.
_objectstore_roles() {
    local roles
    rest_admin_token
    roles=$(rest_get "$IDENTITY_LOCAL_URL/v3/roles?name=ResellerAdmin") ||
        die "cannot list roles at $IDENTITY_LOCAL_URL; see $IDENTITY_LOG"
    if [ -z "$(json_expr '[r["id"] for r in d["roles"]]' <<<"$roles")" ]; then
        info "creating role ResellerAdmin"
        quiet admin_openstack role create ResellerAdmin
    fi
}

objectstore_init() {
    _objectstore_rings
    _objectstore_roles
    ensure_catalog_service swift object-store "Object storage" "$OBJECTSTORE_CATALOG_URL"
}

# ---------------------------------------------------------------------------
# Daemons
# ---------------------------------------------------------------------------

# _objectstore_log DAEMON: its log file (objectstore-<part>.log).
_objectstore_log() { printf '%s/objectstore-%s.log' "$STRATUS_LOGS" "${1#stratus-objectstore-}"; }

# _objectstore_wait_port NAME PORT LOG: wait until the storage server NAME answers
# HTTP on 127.0.0.1:PORT (any status: the backend has no health path), then
# record its fingerprint as current.
_objectstore_wait_port() {
    local name=$1 port=$2 log=$3 start code fp=$STRATUS_RUN/$1.fingerprint
    CURRENT_LOG=$log
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    start=$(now_ms)
    while :; do
        daemon_pid "$name" >/dev/null || {
            rm -f "$fp.pending"
            die "$name exited before it listened on port $port; see $log"
        }
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:$port/healthcheck" 2>/dev/null || true)
        [ -n "$code" ] && [ "$code" != 000 ] && break
        [ $(($(now_ms) - start)) -lt $((SERVICE_TIMEOUT * 1000)) ] ||
            die "$name did not answer on 127.0.0.1:$port within ${SERVICE_TIMEOUT}s; see $log"
        sleep 0.1
    done
    [ -f "$fp.pending" ] && mv -f "$fp.pending" "$fp"
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
}

# The account of the admin token's project (the one the installer probes); call
# rest_admin_token first.
_objectstore_admin_account() {
    curl -fsS --max-time 30 -H "X-Auth-Token: $REST_ADMIN_TOKEN" \
        -H "X-Subject-Token: $REST_ADMIN_TOKEN" "$IDENTITY_LOCAL_URL/v3/auth/tokens" |
        json_expr '"AUTH_" + d["token"]["project"]["id"]'
}

# Wait until the proxy serves the admin's account with a token: that needs the
# proxy's token validation (as the swift user), the rings and the account servers.
_objectstore_wait_account() {
    local account code start
    # In this shell (not in $(...)), so that the token sticks.
    rest_admin_token
    account=$(_objectstore_admin_account) || die "cannot read the admin token's project from identity"
    start=$(now_ms)
    CURRENT_LOG=$OBJECTSTORE_PROXY_LOG
    CURRENT_SEE_ALSO=$(_objectstore_log stratus-objectstore-account)
    while :; do
        daemon_pid "$OBJECTSTORE_PROXY_DAEMON" >/dev/null ||
            die "$OBJECTSTORE_PROXY_DAEMON exited; see $OBJECTSTORE_PROXY_LOG"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -I \
            -H "X-Auth-Token: $REST_ADMIN_TOKEN" "$OBJECTSTORE_LOCAL_URL/v1/$account" \
            2>/dev/null || true)
        case $code in 2??) break ;; esac
        if [ $(($(now_ms) - start)) -ge $((SERVICE_TIMEOUT * 1000)) ]; then
            die "HEAD $OBJECTSTORE_LOCAL_URL/v1/$account still gets HTTP $code after ${SERVICE_TIMEOUT}s: the proxy needs the swift user in identity, the rings in $OBJECTSTORE_DATA and the account servers; see $OBJECTSTORE_PROXY_LOG"
        fi
        sleep 0.2
    done
    info "the proxy serves account $account ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
    CURRENT_SEE_ALSO=''
}

objectstore_start() {
    local fingerprint spec daemon port log
    fingerprint=$({
        hash_files "$OBJECTSTORE_CONF" "$OBJECTSTORE_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/objectstore" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    for spec in $OBJECTSTORE_SERVERS; do
        daemon=${spec%%:*}
        port=${spec##*:}
        log=$(_objectstore_log "$daemon")
        start_daemon "$daemon" "$fingerprint" "$log" "$port" \
            "$(venv_bin "$daemon")" --config-file "$OBJECTSTORE_CONF" --log-file "$log"
        _objectstore_wait_port "$daemon" "$port" "$log"
    done
    start_daemon "$OBJECTSTORE_PROXY_DAEMON" "$fingerprint" "$OBJECTSTORE_PROXY_LOG" \
        "$OBJECTSTORE_PORT" "$(venv_bin "$OBJECTSTORE_PROXY_DAEMON")" \
        --config-file "$OBJECTSTORE_CONF" --log-file "$OBJECTSTORE_PROXY_LOG"
    wait_for_http "$OBJECTSTORE_PROXY_DAEMON" "$OBJECTSTORE_LOCAL_URL/healthcheck" \
        "$OBJECTSTORE_PROXY_LOG"
    for daemon in $OBJECTSTORE_BACKGROUND; do
        log=$(_objectstore_log "$daemon")
        start_daemon "$daemon" "$fingerprint" "$log" - \
            "$(venv_bin "$daemon")" --config-file "$OBJECTSTORE_CONF" --log-file "$log"
        printf '%s\n' "$fingerprint" >"$STRATUS_RUN/$daemon.fingerprint"
        rm -f "$STRATUS_RUN/$daemon.fingerprint.pending"
    done
    _objectstore_wait_account
    # The background daemons have had the account probe's time to fail at start.
    for daemon in $OBJECTSTORE_BACKGROUND; do
        daemon_pid "$daemon" >/dev/null || {
            rm -f "$STRATUS_RUN/$daemon.fingerprint"
            die "$daemon exited right after it started; see $(_objectstore_log "$daemon")"
        }
    done
}

objectstore_summary() {
    say "  Object store:  $OBJECTSTORE_PUBLIC_URL/v1/AUTH_<project id>   (config $OBJECTSTORE_CONF)"
    say "                 devices $OBJECTSTORE_DEVICE_NAMES in $OBJECTSTORE_DEVICES$(_objectstore_uses_loop && printf ' (loop-mounted ext4)'); rings in $OBJECTSTORE_DATA"
    say "                 daemons: proxy, account, container, object, replicator, auditor, updater, reaper; logs $STRATUS_LOGS/objectstore-*.log"
    say "                 try: source $STRATUS_HOME/openrc.demo; stratus objectstore upload c1 FILE; stratus objectstore list c1"
}

#!/usr/bin/env bash
# Set up and run a Stratus cloud on this machine (Debian 12, as root).
#
#   sudo devstack/stack.sh
#
# Installs what is missing (system packages, RabbitMQ, a virtualenv with
# Stratus), writes configs under $STRATUS_HOME/etc, syncs databases, starts
# every enabled daemon in the background (pid files in $STRATUS_HOME/run, logs
# in $STRATUS_HOME/logs), bootstraps identity, creates the demo and service
# accounts, registers each service in the catalog, uploads a test image and
# writes $STRATUS_HOME/openrc.  Safe to re-run: done work is skipped, daemons
# whose config or code changed are restarted.
#
# Settings (environment):
#   STRATUS_HOME      where everything goes               (default /opt/stratus)
#   ENABLED_SERVICES  services to run, space separated    (default "identity image network compute objectstore
#                     blockstorage dashboard")
#   ADMIN_PASSWORD    password of the admin user          (default "secret")
#   DEMO_PASSWORD     password of the demo user           (default $ADMIN_PASSWORD)
#   SERVICE_PASSWORD  password of the service users       (default $ADMIN_PASSWORD)
#   SERVICE_HOST      address in the catalog and openrc   (default 127.0.0.1)
#   DATABASE_URL_IDENTITY  SQLAlchemy URL for identity    (default SQLite in $STRATUS_HOME/data)
#   DATABASE_URL_IMAGE     SQLAlchemy URL for image       (default SQLite in $STRATUS_HOME/data)
#   IMAGE_REQUIRE_FORMAT_MATCH  refuse uploads whose bytes are not the declared disk_format
#                          (default true, as Glance; false accepts any bytes)
#   OBJECTSTORE_DISK_SIZE  size of each object store device image, made only where
#                     the state directory has no user xattrs (default 2G, sparse)
#   VIRT_DRIVER       compute node driver: libvirt or fake (default libvirt; QEMU/TCG
#                     where /dev/kvm cannot run ordinary guests, LIBVIRT_TYPE=kvm/qemu forces)
#   BLOCKSTORAGE_TARGET  how volumes reach the guests: iscsi (tgt targets with CHAP)
#                     or file (local paths; compute on this host)  (default iscsi)
#   STRATUS_DEBUG     True for debug logging              (default False)
#   PYTHON            interpreter for the virtualenv      (default python3, >= 3.11)
#   SERVICE_TIMEOUT   seconds a daemon may take to answer (default 60)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devstack/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=devstack/lib/rabbitmq.sh
source "$HERE/lib/rabbitmq.sh"
# shellcheck source=devstack/lib/python.sh
source "$HERE/lib/python.sh"
# shellcheck source=devstack/lib/accounts.sh
source "$HERE/lib/accounts.sh"
# shellcheck source=devstack/lib/rest.sh
source "$HERE/lib/rest.sh"
enable_error_trap
RETRY_HINT="re-run devstack/stack.sh (it is safe to re-run)"

case ${1:-} in
    -h | --help)
        sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    '') ;;
    *) die "unknown argument '$1' (see $0 --help)" ;;
esac

[ "$(id -u)" -eq 0 ] || die "run stack.sh as root: sudo $0"
check_enabled_services
for service in $(enabled_services); do
    # shellcheck source=/dev/null
    source "$HERE/lib/$service.sh"
done

mkdir -p "$STRATUS_HOME" "$STRATUS_ETC" "$STRATUS_DATA" "$STRATUS_LOGS" "$STRATUS_RUN"
chmod 755 "$STRATUS_HOME"
# One stack.sh at a time.
exec 9>"$STRATUS_RUN/stack.lock"
flock -n 9 || die "another stack.sh is running (lock $STRATUS_RUN/stack.lock)"
[ -f "$STACK_LOG" ] && mv -f "$STACK_LOG" "$STACK_LOG.1"
# It holds command lines and outputs that may name secrets.
install -m 600 /dev/null "$STACK_LOG"
printf '==== stack.sh started %s (ENABLED_SERVICES="%s", STRATUS_HOME=%s)\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ENABLED_SERVICES" "$STRATUS_HOME" >>"$STACK_LOG"
RETRY_HINT="re-run devstack/stack.sh (it is safe to re-run; the installer's full output is in $STACK_LOG)"

# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------

check_machine() {
    local id=''
    [ -r /etc/os-release ] && id=$(. /etc/os-release && printf '%s %s' "${ID:-}" "${VERSION_ID:-}")
    case $id in
        "debian 12") info "Debian 12, repo $STRATUS_REPO, home $STRATUS_HOME" ;;
        *) warn "made for Debian 12; this is '${id:-unknown}': going on anyway" ;;
    esac
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: stack.sh needs a Debian-based system"
    info "services: $ENABLED_SERVICES"
}

install_system_packages() {
    # libvirt-dev and pkg-config: pip builds libvirt-python (the compute node's driver) from them.
    local pkgs=(curl ca-certificates iproute2 procps rabbitmq-server libvirt-dev pkg-config) s
    command -v "$PYTHON" >/dev/null 2>&1 || { PYTHON=python3; pkgs+=(python3); }
    if [ ! -x "$STRATUS_VENV/bin/python" ] && ! python_can_venv; then
        pkgs+=(python3-venv)
    fi
    for s in $(enabled_services); do
        # shellcheck disable=SC2207
        pkgs+=($(call_hook "$s" packages))
    done
    install_packages "${pkgs[@]}"
    if [ ! -x "$STRATUS_VENV/bin/python" ] && ! python_can_venv; then
        die "$PYTHON cannot create a virtualenv even with python3-venv installed (set PYTHON=...)"
    fi
    info "present: ${pkgs[*]}"
}

print_usage() {
    local s
    cat <<EOF

${_C_GREEN}${_C_BOLD}Stratus is running.${_C_OFF}
EOF
    for s in $(enabled_services); do call_hook "$s" summary; done
    cat <<EOF

Use the cloud (admin; demo user: openrc.demo):
    source $STRATUS_HOME/openrc
    openstack token issue
    openstack project create p1
    openstack user create --project p1 --password pw u1
    openstack role add --project p1 --user u1 member
    openstack catalog list
    openstack role assignment list --names

Configs:   $STRATUS_ETC/<service>/
Logs:      $STRATUS_LOGS/   (one per daemon; the installer's own output: $STACK_LOG)
Pid files: $STRATUS_RUN/
Stop:      $HERE/unstack.sh   (start again: $HERE/stack.sh)

EOF
}

# Build the list of steps: fixed ones, then each enabled service's hooks.
STEP_TITLES=()
STEP_CMDS=()
add_step() {
    STEP_TITLES+=("$1")
    STEP_CMDS+=("$2")
}
add_step "Check the machine" check_machine
add_step "Install missing system packages" install_system_packages
add_step "Start RabbitMQ on loopback" ensure_rabbitmq
add_step "Install Stratus into $STRATUS_VENV" install_stratus
for service in $(enabled_services); do
    declare -F "${service}_configure" >/dev/null && add_step "Configure $service" "${service}_configure"
    declare -F "${service}_init" >/dev/null && add_step "Initialise $service (database, keys, catalog)" "${service}_init"
    declare -F "${service}_start" >/dev/null && add_step "Start $service" "${service}_start"
    # Right after identity: the other services' daemons validate tokens as
    # their service users from their first request on.
    if [ "$service" = identity ]; then add_step "Create demo and service accounts" create_accounts; fi
done
is_service_enabled identity || add_step "Create demo and service accounts" create_accounts
add_step "Write openrc files" write_openrc

STEP_TOTAL=${#STEP_TITLES[@]}
for i in "${!STEP_TITLES[@]}"; do
    run_step "${STEP_TITLES[$i]}" "${STEP_CMDS[$i]}"
done
print_usage
print_timings

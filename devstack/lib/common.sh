# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Common helpers of the Stratus installer: settings, step runner with timing and
# error reporting, apt packages, file hashes, network probes, and the daemon
# life cycle (start in the background with a pid file, wait until it answers,
# stop by pid).  Sourced by stack.sh, unstack.sh and .ci/run; never run directly.

# ---------------------------------------------------------------------------
# Settings (every one can be set in the environment)
# ---------------------------------------------------------------------------
STRATUS_REPO=${STRATUS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STRATUS_HOME=${STRATUS_HOME:-/opt/stratus}
ENABLED_SERVICES=${ENABLED_SERVICES:-identity image network compute objectstore blockstorage dashboard}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-secret}
DEMO_PASSWORD=${DEMO_PASSWORD:-$ADMIN_PASSWORD}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-$ADMIN_PASSWORD}
SERVICE_HOST=${SERVICE_HOST:-127.0.0.1}
REGION_NAME=${REGION_NAME:-RegionOne}
STRATUS_DEBUG=${STRATUS_DEBUG:-False}
PYTHON=${PYTHON:-python3}
# Seconds a daemon may take to answer after it is started.
SERVICE_TIMEOUT=${SERVICE_TIMEOUT:-60}
# Seconds a daemon may take to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
RABBIT_HOST=127.0.0.1
RABBIT_PORT=${RABBIT_PORT:-5672}
RABBIT_USER=${RABBIT_USER:-guest}
RABBIT_PASSWORD=${RABBIT_PASSWORD:-guest}
TRANSPORT_URL=${TRANSPORT_URL:-rabbit://$RABBIT_USER:$RABBIT_PASSWORD@$RABBIT_HOST:$RABBIT_PORT/}

STRATUS_VENV=$STRATUS_HOME/venv
STRATUS_ETC=$STRATUS_HOME/etc
STRATUS_DATA=$STRATUS_HOME/data
STRATUS_LOGS=$STRATUS_HOME/logs
STRATUS_RUN=$STRATUS_HOME/run
# Everything the installer's commands print (apt-get, pip, stratus-manage, ...).
STACK_LOG=${STACK_LOG:-$STRATUS_LOGS/stack.log}

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
if [ -t 1 ]; then
    _C_BOLD=$'\e[1m' _C_RED=$'\e[31m' _C_GREEN=$'\e[32m' _C_YELLOW=$'\e[33m' _C_OFF=$'\e[0m'
else
    _C_BOLD='' _C_RED='' _C_GREEN='' _C_YELLOW='' _C_OFF=''
fi

say() { printf '%s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '%s    warning: %s%s\n' "$_C_YELLOW" "$*" "$_C_OFF" >&2; }
# die MESSAGE: report the failure of the current step and exit.
die() {
    printf '%sERROR: %s%s\n' "$_C_RED" "$*" "$_C_OFF" >&2
    # Inside $(...) the main shell's ERR trap reports the context.
    if [ "${BASHPID:-$$}" != "$$" ]; then exit 1; fi
    trap - ERR
    _report_context >&2
    exit 1
}

# Milliseconds since the epoch, and a duration in ms printed as seconds.
now_ms() { date +%s%3N; }
fmt_ms() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# Append the output of a command to $STACK_LOG (shown on failure).
# The command line is logged with the passwords masked.
quiet() {
    local line="$*" v
    for v in ADMIN_PASSWORD DEMO_PASSWORD SERVICE_PASSWORD; do
        if [ -n "${!v:-}" ]; then line=${line//"${!v}"/***}; fi
    done
    _QUIET_CMD=$line
    printf '+ %s\n' "$line" >>"$STACK_LOG"
    "$@" >>"$STACK_LOG" 2>&1
    _QUIET_CMD=''
}

# ---------------------------------------------------------------------------
# Steps: each announces itself, is timed, and on failure says what to do
# ---------------------------------------------------------------------------
CURRENT_STEP=''
# The log whose tail is shown when the current step fails.
CURRENT_LOG=''
# Show CURRENT_LOG only from this byte on (a daemon's log: this start's lines).
CURRENT_LOG_OFFSET=0
# Another log worth reading when the current step fails.
CURRENT_SEE_ALSO=''
STEP_NUMBER=0
STEP_TOTAL=${STEP_TOTAL:-?}
STACK_START_MS=$(now_ms)
STEP_TIMES=()
RETRY_HINT=${RETRY_HINT:-"re-run $0 (it is safe to re-run)"}

# Which step failed, the tail of its log, and how to retry.
_report_context() {
    [ -n "$CURRENT_STEP" ] && printf '  failed step: %s\n' "$CURRENT_STEP"
    if [ -n "$CURRENT_LOG" ] && [ -s "$CURRENT_LOG" ]; then
        printf '  last lines of %s:\n' "$CURRENT_LOG"
        tail -c "+$((CURRENT_LOG_OFFSET + 1))" "$CURRENT_LOG" | tail -n 25 | cut -c1-400 | sed 's/^/    | /'
    fi
    if [ -n "$CURRENT_SEE_ALSO" ]; then printf '  see also: %s\n' "$CURRENT_SEE_ALSO"; fi
    printf '  To retry: fix the cause, then %s.\n' "$RETRY_HINT"
}

_QUIET_CMD=''
_on_error() {
    local rc=$? cmd=$BASH_COMMAND where='' i
    trap - ERR
    set +e
    # In a subshell only the main shell reports, once.
    if [ "${BASHPID:-$$}" != "$$" ]; then exit "$rc"; fi
    # A command run by quiet(): name it rather than quiet's own line.
    if [ -n "$_QUIET_CMD" ] && [[ $cmd == *STACK_LOG* ]]; then cmd=$_QUIET_CMD; fi
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
        where+="${where:+ <- }${FUNCNAME[$i]} (${BASH_SOURCE[$i]#"$STRATUS_REPO"/}:${BASH_LINENO[$((i - 1))]})"
    done
    {
        printf '\n%sFAILED%s (exit code %s)\n' "$_C_RED$_C_BOLD" "$_C_OFF" "$rc"
        printf '  command: %s\n  at: %s\n' "$cmd" "$where"
        _report_context
    } >&2
    exit "$rc"
}

# Call once at the top of a script.
enable_error_trap() {
    set -eEuo pipefail
    trap _on_error ERR
}

# run_step "Title" function [args...]: announce, time, run.
run_step() {
    local title=$1 start elapsed
    shift
    STEP_NUMBER=$((STEP_NUMBER + 1))
    CURRENT_STEP=$title
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
    CURRENT_SEE_ALSO=''
    printf '%s[%s/%s] %s%s\n' "$_C_BOLD" "$STEP_NUMBER" "$STEP_TOTAL" "$title" "$_C_OFF"
    start=$(now_ms)
    "$@"
    elapsed=$(($(now_ms) - start))
    STEP_TIMES+=("$(printf '%8s  %s' "$(fmt_ms "$elapsed")" "$title")")
    printf '    %sdone%s (%s)\n' "$_C_GREEN" "$_C_OFF" "$(fmt_ms "$elapsed")"
    CURRENT_STEP=''
}

print_timings() {
    local t
    say "Time per step:"
    for t in "${STEP_TIMES[@]}"; do say "  $t"; done
    say "Total: $(fmt_ms $(($(now_ms) - STACK_START_MS)))"
}

# ---------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------
_APT_UPDATED=0

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# install_packages pkg...: apt-get install only what is missing.
install_packages() {
    local p missing=()
    for p in "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    info "installing: ${missing[*]}"
    if [ "$_APT_UPDATED" -eq 0 ]; then
        quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get update
        _APT_UPDATED=1
    fi
    quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confold "${missing[@]}"
}

# as_root CMD...: run CMD as root (directly, or through password-less sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "'$*' needs root: run this as root (or install what it needs first)"
    fi
}

# /dev/kvm as Debian's udev rule leaves it (root:kvm, 0660) where no udev ran.
# libvirtd probes QEMU's capabilities as root but judges them by whether its
# QEMU user (libvirt-qemu, in group kvm) may open /dev/kvm: with a 0600 device
# every lookup finds its cached capabilities "outdated" and probes QEMU again,
# which makes each domain define take seconds instead of milliseconds.
kvm_device_access() {
    [ -c /dev/kvm ] && getent group kvm >/dev/null 2>&1 || return 0
    if [ "$(stat -c %G:%a /dev/kvm)" != kvm:660 ]; then
        as_root chgrp kvm /dev/kvm && as_root chmod 0660 /dev/kvm
    fi
}

# True if $PYTHON can create a virtualenv with pip (Debian splits ensurepip
# into python3-venv).
python_can_venv() {
    "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

# write_if_changed FILE [MODE]: stdin becomes FILE unless FILE already holds
# exactly that.  Returns 0 either way; sets FILE_CHANGED=1 when it wrote.
FILE_CHANGED=0
write_if_changed() {
    local file=$1 mode=${2:-644} tmp
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
        FILE_CHANGED=0
    else
        mv -f "$tmp" "$file"
        FILE_CHANGED=1
    fi
}

# Hash of the contents of the given files (missing ones count as empty).
hash_files() {
    local f
    for f in "$@"; do
        printf '%s\n' "$f"
        [ -f "$f" ] && cat "$f"
    done | sha256sum | cut -c1-32
}

# Hash of name, size and mtime of the source files under the given
# directories: cheap, and changes whenever code is edited.
hash_tree() {
    find "$@" -type f \( -name '*.py' -o -name '*.ini' -o -name '*.json' \
        -o -name '*.yaml' -o -name '*.mako' \) -not -path '*/__pycache__/*' \
        -printf '%p %s %T@\n' 2>/dev/null | LC_ALL=C sort | sha256sum | cut -c1-32
}

# ---------------------------------------------------------------------------
# Network probes
# ---------------------------------------------------------------------------

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
    # shellcheck disable=SC2016  # $1 $2 expand in the inner shell
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# Who listens on a TCP port (for error messages).
port_owner() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n 1
    fi
}

# ---------------------------------------------------------------------------
# Daemons: one process each, pid file in $STRATUS_RUN, log in $STRATUS_LOGS
# ---------------------------------------------------------------------------

pid_file() { printf '%s/%s.pid' "$STRATUS_RUN" "$1"; }

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local status
    status=$(cat "/proc/$1/status" 2>/dev/null) || return 1
    [[ $status != *$'State:\tZ'* ]]
}

# daemon_pid NAME: print the pid if the daemon NAME runs (the pid file names a
# live process whose command line contains NAME); fail otherwise.
daemon_pid() {
    local name=$1 pf pid cmdline
    pf=$(pid_file "$name")
    [ -f "$pf" ] || return 1
    pid=$(tr -dc '0-9' <"$pf")
    [ -n "$pid" ] && pid_alive "$pid" || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$name"* ]] || return 1
    printf '%s\n' "$pid"
}

# stop_daemon NAME: SIGTERM, wait up to $STOP_TIMEOUT s, then SIGKILL.
stop_daemon() {
    local name=$1 pid waited=0
    if ! pid=$(daemon_pid "$name"); then
        rm -f "$(pid_file "$name")"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    while pid_alive "$pid" && [ "$waited" -lt $((STOP_TIMEOUT * 10)) ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if pid_alive "$pid"; then
        warn "$name (pid $pid) did not exit within ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        waited=0
        while pid_alive "$pid" && [ "$waited" -lt 100 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        pid_alive "$pid" && die "$name (pid $pid) survived SIGKILL"
    fi
    rm -f "$(pid_file "$name")"
    info "stopped $name (pid $pid)"
}

# start_daemon NAME FINGERPRINT LOG PORT CMD...: start CMD in the background as
# daemon NAME unless it already runs with the same FINGERPRINT (a hash of its
# config and code); restart it when the fingerprint changed.  PORT (or "-") must
# be free before the start.  Sets DAEMON_LOG_OFFSET: where this start's lines
# begin in LOG.
DAEMON_LOG_OFFSET=0
start_daemon() {
    local name=$1 fingerprint=$2 log=$3 port=$4 pid fp_file owner waited=0
    shift 4
    fp_file=$STRATUS_RUN/$name.fingerprint
    if pid=$(daemon_pid "$name"); then
        if [ -f "$fp_file" ] && [ "$(cat "$fp_file")" = "$fingerprint" ]; then
            info "$name already runs (pid $pid), config and code unchanged"
            DAEMON_LOG_OFFSET=$(stat -c %s "$log" 2>/dev/null || echo 0)
            return 0
        fi
        info "$name: config or code changed, restarting"
        stop_daemon "$name"
    fi
    rm -f "$fp_file"
    if [ "$port" != "-" ]; then
        # A just-stopped listener may need a moment to release the port.
        while port_open 127.0.0.1 "$port" && [ "$waited" -lt 50 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if port_open 127.0.0.1 "$port"; then
            owner=$(port_owner "$port")
            die "cannot start $name: port $port is already in use${owner:+ by $owner}. Stop that process (or set its port elsewhere) and re-run."
        fi
    fi
    DAEMON_LOG_OFFSET=$(stat -c %s "$log" 2>/dev/null || echo 0)
    printf '\n==== %s: starting %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
    # setsid: own session, so the daemon survives the terminal; exec keeps $!
    # the daemon's own pid; fd 9 is stack.sh's lock, which must not be inherited.
    (cd "$STRATUS_HOME" && exec setsid "$@" >>"$log" 2>&1 </dev/null 9>&-) &
    pid=$!
    printf '%s\n' "$pid" >"$(pid_file "$name")"
    printf '%s\n' "$fingerprint" >"$fp_file.pending"
    info "started $name (pid $pid), log $log"
}

# wait_for_http NAME URL LOG [TIMEOUT]: wait until URL answers 2xx while the
# daemon NAME stays alive; then record its fingerprint as current.
wait_for_http() {
    local name=$1 url=$2 log=$3 timeout=${4:-$SERVICE_TIMEOUT} start pid fp_file
    fp_file=$STRATUS_RUN/$name.fingerprint
    CURRENT_LOG=$log
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    start=$(now_ms)
    while :; do
        if ! pid=$(daemon_pid "$name"); then
            rm -f "$fp_file.pending"
            die "$name exited before it answered on $url; see $log"
        fi
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
            break
        fi
        if [ $(($(now_ms) - start)) -ge $((timeout * 1000)) ]; then
            die "$name (pid $pid) did not answer on $url within ${timeout}s; see $log (raise SERVICE_TIMEOUT to wait longer)"
        fi
        sleep 0.2
    done
    [ -f "$fp_file.pending" ] && mv -f "$fp_file.pending" "$fp_file"
    info "$name answers on $url ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
}

# ---------------------------------------------------------------------------
# Services: devstack/lib/<service>.sh defines <service>_<hook> functions
# ---------------------------------------------------------------------------

# Every service Stratus knows, in start order.
# In start order: the object store before image (an image store) and block storage
# (backups).
KNOWN_SERVICES="identity objectstore image network blockstorage compute dashboard"

is_service_enabled() {
    case " $ENABLED_SERVICES " in *" $1 "*) return 0 ;; esac
    return 1
}

# call_hook SERVICE HOOK [args]: run SERVICE_HOOK if the service defines it.
call_hook() {
    local fn="$1_$2"
    shift 2
    if declare -F "$fn" >/dev/null; then
        "$fn" "$@"
    fi
}

# Enabled services, validated, in start order.
enabled_services() {
    local s
    for s in $KNOWN_SERVICES; do
        is_service_enabled "$s" && printf '%s\n' "$s"
    done
    return 0
}

check_enabled_services() {
    local s
    for s in $ENABLED_SERVICES; do
        case " $KNOWN_SERVICES " in
            *" $s "*) ;;
            *) die "unknown service '$s' in ENABLED_SERVICES (known: $KNOWN_SERVICES)" ;;
        esac
        [ -f "$STRATUS_REPO/devstack/lib/$s.sh" ] ||
            die "service '$s' is not available yet (no devstack/lib/$s.sh); ENABLED_SERVICES=\"$ENABLED_SERVICES\""
    done
}

# The virtualenv's binaries (stratus-manage, openstack, ...).
venv_bin() { printf '%s/bin/%s' "$STRATUS_VENV" "$1"; }

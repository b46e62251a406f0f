#!/usr/bin/env bash
# Stop the Stratus daemons that devstack/stack.sh started.
#
#   devstack/unstack.sh          stop every daemon by its pid file
#   devstack/unstack.sh --all    also stop RabbitMQ, if stack.sh started it
#
# Each daemon gets SIGTERM, then SIGKILL after $STOP_TIMEOUT seconds (default
# 15).  Only the pids in $STRATUS_HOME/run/*.pid are signalled.  Configs, data
# and logs stay; devstack/stack.sh starts everything again.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETRY_HINT="re-run devstack/unstack.sh"
STACK_LOG=/dev/null
# shellcheck source=devstack/lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=devstack/lib/rabbitmq.sh
source "$HERE/lib/rabbitmq.sh"
enable_error_trap

ALL=0
for arg in "$@"; do
    case $arg in
        --all) ALL=1 ;;
        -h | --help)
            sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *) die "unknown argument '$arg' (see $0 --help)" ;;
    esac
done

stopped=0
if [ -d "$STRATUS_RUN" ]; then
    for pf in "$STRATUS_RUN"/*.pid; do
        [ -e "$pf" ] || continue
        name=$(basename "$pf" .pid)
        if daemon_pid "$name" >/dev/null; then
            stop_daemon "$name"
            stopped=$((stopped + 1))
        else
            info "$name was not running; removing its stale pid file"
            rm -f "$pf"
        fi
        rm -f "$STRATUS_RUN/$name.fingerprint" "$STRATUS_RUN/$name.fingerprint.pending"
    done
fi
say "Stopped $stopped Stratus daemon(s) (pid files in $STRATUS_RUN)."

# What the network agents wired stays after they stop (as on Neutron): remove it,
# ours only — the daemons they started (by pid file), the namespaces whose state
# directories they keep, the networks' bridges and VXLAN devices, and the bridge
# agent's iptables chains. stack.sh's agents rebuild all of it.
unwire_network() {
    local pf pid ns dir removed=0
    for pf in "$STRATUS_DATA"/dhcp/*/pid "$STRATUS_DATA"/dhcp/*/metadata_proxy.pid \
        "$STRATUS_DATA"/l3/*/metadata_proxy.pid; do
        [ -f "$pf" ] || continue
        pid=$(cat "$pf" 2>/dev/null || true)
        if [ -n "$pid" ] && grep -qa -e dnsmasq -e ns_proxy "/proc/$pid/cmdline" 2>/dev/null &&
            grep -qaF "$pf" "/proc/$pid/cmdline"; then
            kill "$pid" 2>/dev/null && removed=$((removed + 1))
        fi
    done
    for dir in "$STRATUS_DATA"/dhcp/* "$STRATUS_DATA"/l3/*; do
        [ -d "$dir" ] || continue
        case $dir in */dhcp/*) ns=qdhcp-${dir##*/} ;; *) ns=qrouter-${dir##*/} ;; esac
        ip netns delete "$ns" 2>/dev/null && removed=$((removed + 1))
        rm -rf "$dir"
    done
    # The networks' bridges and VXLAN devices, named from the network database
    # (a test cloud's on the same host is not ours); then the iptables chains.
    if [ -x "$STRATUS_VENV/bin/python" ]; then
        for dev in $("$STRATUS_VENV/bin/python" - "$STRATUS_DATA/network.sqlite" \
            "$(hostname)" <<'PY' || true
import os, sqlite3, sys
from network.agents.bridge import driver, firewall
firewall.IptablesFirewall(driver.IpDriver(), firewall.Chains.for_host(sys.argv[2])).remove_all()
if os.path.exists(sys.argv[1]):
    db = sqlite3.connect(sys.argv[1])
    for net_id, kind, vni in db.execute(
            "SELECT network_id, network_type, segmentation_id FROM network_segments"):
        print("brq" + net_id[:11])
        if kind == "vxlan":
            print("vxlan-%d" % vni)
PY
        ); do
            ip link delete "$dev" 2>/dev/null && removed=$((removed + 1))
        done
    fi
    [ "$removed" -gt 0 ] && say "Removed the network agents' wiring ($removed namespaces, devices and daemons)."
    return 0
}
# The compute node's guests stay defined in libvirt after it stops (as on Nova):
# destroy and undefine ours (their disks live under $STRATUS_DATA/instances), so
# their tap devices are gone before the network wiring is removed.
remove_guests() {
    local dom removed=0
    command -v virsh >/dev/null 2>&1 || return 0
    virsh -c qemu:///system version >/dev/null 2>&1 || return 0
    for dom in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^instance-' || true); do
        virsh -c qemu:///system dumpxml "$dom" 2>/dev/null | grep -qF "$STRATUS_DATA/instances/" ||
            continue
        virsh -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
        virsh -c qemu:///system undefine "$dom" --managed-save --nvram >/dev/null 2>&1 ||
            virsh -c qemu:///system undefine "$dom" >/dev/null 2>&1 || true
        removed=$((removed + 1))
    done
    [ "$removed" -gt 0 ] && say "Removed $removed guest(s) of the compute node from libvirt."
    return 0
}
if [ "$(id -u)" -eq 0 ]; then
    remove_guests
    # The object store's loop-mounted devices, if stack.sh made them.
    # shellcheck source=devstack/lib/objectstore.sh
    source "$HERE/lib/objectstore.sh"
    objectstore_unmount
fi
if command -v ip >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    unwire_network
fi

if [ "$ALL" = 1 ]; then
    stop_rabbitmq
else
    if rabbitmq_running; then
        say "RabbitMQ keeps running (devstack/unstack.sh --all stops it if stack.sh started it)."
    fi
fi

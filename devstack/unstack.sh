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

if [ "$ALL" = 1 ]; then
    stop_rabbitmq
else
    if rabbitmq_running; then
        say "RabbitMQ keeps running (devstack/unstack.sh --all stops it if stack.sh started it)."
    fi
fi

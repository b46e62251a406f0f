# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# RabbitMQ, the RPC bus: installed from Debian, started on loopback when
# nothing answers on its port.  A broker that already runs is never restarted.

RABBIT_TIMEOUT=${RABBIT_TIMEOUT:-90}
RABBIT_ENV_CONF=/etc/rabbitmq/rabbitmq-env.conf
# Present while the broker runs because stack.sh started it (unstack.sh --all
# stops only such a broker).
RABBIT_MARKER=$STRATUS_RUN/rabbitmq.started-by-stratus

rabbitmq_running() {
    port_open "$RABBIT_HOST" "$RABBIT_PORT"
}

# The newest RabbitMQ log, for error messages.
_rabbitmq_log() {
    local newest
    # shellcheck disable=SC2012  # fixed names
    newest=$(ls -t /var/log/rabbitmq/*.log /var/log/rabbitmq/startup_err 2>/dev/null | head -n 1 || true)
    printf '%s\n' "${newest:-$STACK_LOG}"
}

# RabbitMQ names its node rabbit@<short hostname>; when that name does not
# resolve the node cannot start, so use rabbit@localhost instead.
_rabbitmq_fix_nodename() {
    local host
    host=$(hostname -s 2>/dev/null || uname -n)
    if getent hosts "$host" >/dev/null 2>&1; then
        return 0
    fi
    if [ -f "$RABBIT_ENV_CONF" ] && grep -Eq '^[[:space:]]*(RABBITMQ_)?NODENAME=' "$RABBIT_ENV_CONF"; then
        return 0
    fi
    info "hostname '$host' does not resolve: naming the RabbitMQ node rabbit@localhost in $RABBIT_ENV_CONF"
    as_root mkdir -p "$(dirname "$RABBIT_ENV_CONF")"
    printf '# added by Stratus devstack/stack.sh: the hostname does not resolve\nNODENAME=rabbit@localhost\n' |
        as_root tee -a "$RABBIT_ENV_CONF" >/dev/null
}

# Start RabbitMQ bound to 127.0.0.1 unless a broker already answers.
ensure_rabbitmq() {
    local start
    if rabbitmq_running; then
        info "RabbitMQ already answers on $RABBIT_HOST:$RABBIT_PORT; leaving it as it is"
        return 0
    fi
    command -v rabbitmq-server >/dev/null 2>&1 ||
        die "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    _rabbitmq_fix_nodename
    # A node may exist but still be booting (or running with its listener
    # elsewhere): then only wait for it.
    if as_root rabbitmqctl -q -t 5 status >/dev/null 2>&1; then
        info "a RabbitMQ node runs but $RABBIT_HOST:$RABBIT_PORT does not answer yet; waiting"
    else
        info "starting RabbitMQ on $RABBIT_HOST:$RABBIT_PORT"
        quiet as_root env RABBITMQ_NODE_IP_ADDRESS="$RABBIT_HOST" ERL_EPMD_ADDRESS="$RABBIT_HOST" \
            RABBITMQ_NODE_PORT="$RABBIT_PORT" rabbitmq-server -detached
        mkdir -p "$STRATUS_RUN"
        touch "$RABBIT_MARKER"
    fi
    start=$(now_ms)
    CURRENT_LOG=$(_rabbitmq_log)
    until quiet as_root rabbitmqctl -q -t 10 await_startup && rabbitmq_running; do
        if [ $(($(now_ms) - start)) -ge $((RABBIT_TIMEOUT * 1000)) ]; then
            CURRENT_LOG=$(_rabbitmq_log)
            die "RabbitMQ did not start within ${RABBIT_TIMEOUT}s; see $CURRENT_LOG and /var/log/rabbitmq/"
        fi
        sleep 1
    done
    CURRENT_LOG=$STACK_LOG
    info "RabbitMQ is up ($(fmt_ms $(($(now_ms) - start))))"
}

# Stop RabbitMQ, but only if stack.sh started it.
stop_rabbitmq() {
    if [ ! -f "$RABBIT_MARKER" ]; then
        if rabbitmq_running; then
            info "RabbitMQ was not started by stack.sh; leaving it running"
        fi
        return 0
    fi
    if rabbitmq_running || rabbitmqctl -q -t 5 status >/dev/null 2>&1; then
        info "stopping RabbitMQ"
        rabbitmqctl -q stop >/dev/null 2>&1 || warn "rabbitmqctl stop failed"
        epmd -kill >/dev/null 2>&1 || true
    fi
    rm -f "$RABBIT_MARKER"
}

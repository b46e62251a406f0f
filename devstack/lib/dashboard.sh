# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Dashboard (stratus-dashboard, a Django application on port 8000): a client of
# the public APIs as its logged-in user; its only state is session files and
# its signing key under $STRATUS_DATA.
#
# Hooks (see lib/identity.sh): dashboard_configure writes
# $STRATUS_ETC/dashboard/dashboard.conf, dashboard_start starts the daemon and
# waits for its login page, dashboard_summary prints its URL.

DASHBOARD_PORT=${DASHBOARD_PORT:-8000}
DASHBOARD_ETC=$STRATUS_ETC/dashboard
DASHBOARD_CONF=$DASHBOARD_ETC/dashboard.conf
DASHBOARD_DAEMON=stratus-dashboard
DASHBOARD_LOG_NAME=dashboard.log
DASHBOARD_LOG=$STRATUS_LOGS/$DASHBOARD_LOG_NAME
DASHBOARD_URL=http://$SERVICE_HOST:$DASHBOARD_PORT/
DASHBOARD_LOCAL_URL=http://127.0.0.1:$DASHBOARD_PORT

dashboard_packages() { :; }

dashboard_configure() {
    is_service_enabled identity ||
        die "the dashboard needs identity on this machine: ENABLED_SERVICES=\"identity ... dashboard\""
    mkdir -p "$DASHBOARD_ETC"
    write_if_changed "$DASHBOARD_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
log_file = $DASHBOARD_LOG_NAME
debug = $STRATUS_DEBUG

[api]
bind_host = 0.0.0.0
bind_port = $DASHBOARD_PORT
threads = 16

[dashboard]
auth_url = $IDENTITY_PUBLIC_URL/v3
region_name = $REGION_NAME
interface = public
session_dir = $STRATUS_DATA/dashboard-sessions
secret_key_file = $STRATUS_DATA/dashboard.key
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $DASHBOARD_CONF"
    return 0
}

dashboard_start() {
    local fingerprint
    fingerprint=$({
        hash_files "$DASHBOARD_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/dashboard" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    start_daemon "$DASHBOARD_DAEMON" "$fingerprint" "$DASHBOARD_LOG" "$DASHBOARD_PORT" \
        "$(venv_bin "$DASHBOARD_DAEMON")" --config-file "$DASHBOARD_CONF"
    wait_for_http "$DASHBOARD_DAEMON" "$DASHBOARD_LOCAL_URL/auth/login/" "$DASHBOARD_LOG"
}

dashboard_summary() {
    say "  Dashboard:     $DASHBOARD_URL   (log in as demo or admin; log $DASHBOARD_LOG)"
}

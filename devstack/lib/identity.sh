# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Identity (stratus-identity-api, Keystone v3 on port 5000).
#
# Service hooks, called by stack.sh for every enabled service when defined:
#   <service>_packages    print the Debian packages the service needs
#   <service>_configure   write $STRATUS_ETC/<service>/
#   <service>_init        databases, keys, bootstrap (idempotent)
#   <service>_start       start the daemons (restart changed ones), wait for them
#   <service>_summary     print what a user should know after stack.sh

IDENTITY_PORT=${IDENTITY_PORT:-5000}
IDENTITY_ETC=$STRATUS_ETC/identity
IDENTITY_CONF=$IDENTITY_ETC/identity.conf
IDENTITY_PASTE=$IDENTITY_ETC/api-paste.ini
IDENTITY_KEYS=$IDENTITY_ETC/fernet-keys
IDENTITY_CREDENTIAL_KEYS=$IDENTITY_ETC/credential-keys
IDENTITY_LOG_NAME=identity-api.log
IDENTITY_LOG=$STRATUS_LOGS/$IDENTITY_LOG_NAME
IDENTITY_DAEMON=stratus-identity-api
# The URL clients use, and the one the installer probes.
IDENTITY_PUBLIC_URL=http://$SERVICE_HOST:$IDENTITY_PORT
IDENTITY_LOCAL_URL=http://127.0.0.1:$IDENTITY_PORT
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/identity.sqlite.
DATABASE_URL_IDENTITY=${DATABASE_URL_IDENTITY:-}
# Done-marker of identity_init: skip it on a re-run when nothing changed.
IDENTITY_INIT_STAMP=$STRATUS_DATA/identity.init-stamp

identity_packages() { :; }

identity_configure() {
    mkdir -p "$IDENTITY_ETC"
    write_if_changed "$IDENTITY_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
log_file = $IDENTITY_LOG_NAME
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[database]
$(if [ -n "$DATABASE_URL_IDENTITY" ]; then
    printf 'connection = %s' "$DATABASE_URL_IDENTITY"
else
    printf '# connection unset: SQLite file under state_path'
fi)

[api]
bind_host = 0.0.0.0
bind_port = $IDENTITY_PORT
public_endpoint = $IDENTITY_PUBLIC_URL

[fernet_tokens]
key_repository = $IDENTITY_KEYS

[credential]
key_repository = $IDENTITY_CREDENTIAL_KEYS
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $IDENTITY_CONF"
    [ -f "$STRATUS_REPO/etc/identity/api-paste.ini" ] ||
        die "$STRATUS_REPO/etc/identity/api-paste.ini is missing from the checkout"
    write_if_changed "$IDENTITY_PASTE" 644 <"$STRATUS_REPO/etc/identity/api-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $IDENTITY_PASTE"
    return 0
}

identity_manage() {
    quiet "$(venv_bin stratus-manage)" identity --config-file "$IDENTITY_CONF" "$@"
}

_identity_init_hash() {
    {
        hash_files "$IDENTITY_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/identity" "$STRATUS_REPO/common"
        printf '%s\n' "$ADMIN_PASSWORD" "$REGION_NAME" "$IDENTITY_PUBLIC_URL"
    } | sha256sum | cut -c1-32
}

# True when the last identity_init finished with the same inputs and its
# results are still there (only checkable for the default SQLite database).
_identity_init_done() {
    [ -z "$DATABASE_URL_IDENTITY" ] &&
        [ -s "$STRATUS_DATA/identity.sqlite" ] &&
        [ -s "$IDENTITY_KEYS/0" ] &&
        [ -s "$IDENTITY_CREDENTIAL_KEYS/0" ] &&
        [ -f "$IDENTITY_INIT_STAMP" ] &&
        [ "$(cat "$IDENTITY_INIT_STAMP")" = "$(_identity_init_hash)" ]
}

identity_init() {
    local url=$IDENTITY_PUBLIC_URL/v3
    if _identity_init_done; then
        info "database, keys and bootstrap are up to date; skipping"
        return 0
    fi
    rm -f "$IDENTITY_INIT_STAMP"
    info "stratus-manage identity db sync"
    identity_manage db sync
    info "stratus-manage identity fernet-setup"
    identity_manage fernet-setup
    info "stratus-manage identity bootstrap (admin, roles, $REGION_NAME, catalog)"
    identity_manage bootstrap \
        --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-username admin \
        --bootstrap-project-name admin \
        --bootstrap-region-id "$REGION_NAME" \
        --bootstrap-public-url "$url" \
        --bootstrap-internal-url "$url" \
        --bootstrap-admin-url "$url"
    _identity_init_hash >"$IDENTITY_INIT_STAMP"
}

identity_start() {
    local fingerprint body
    fingerprint=$({
        hash_files "$IDENTITY_CONF" "$IDENTITY_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/identity" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    start_daemon "$IDENTITY_DAEMON" "$fingerprint" "$IDENTITY_LOG" "$IDENTITY_PORT" \
        "$(venv_bin "$IDENTITY_DAEMON")" --config-file "$IDENTITY_CONF"
    wait_for_http "$IDENTITY_DAEMON" "$IDENTITY_LOCAL_URL/healthcheck" "$IDENTITY_LOG"
    CURRENT_LOG=$IDENTITY_LOG
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    body=$(curl -fsS --max-time 5 "$IDENTITY_LOCAL_URL/v3" 2>&1 || true)
    case $body in
        *'"v3'*) ;;
        *) die "$IDENTITY_LOCAL_URL/v3 does not return the v3 version document (got: ${body:0:200}); see $IDENTITY_LOG" ;;
    esac
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
}

identity_summary() {
    say "  Identity API:  $IDENTITY_PUBLIC_URL/v3   (log $IDENTITY_LOG, config $IDENTITY_CONF)"
}

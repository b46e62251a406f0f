# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Accounts made with the real `openstack` client once identity answers: the
# demo project and user, the service project, one service user per enabled
# service; and the openrc files.

# The service user of each service (admin and service roles on project service).
declare -gA SERVICE_USER_OF=(
    [image]=glance
    [compute]=nova
    [network]=neutron
    [blockstorage]=cinder
    [objectstore]=swift
)
ACCOUNTS_STAMP=$STRATUS_DATA/accounts.stamp

# `openstack` as admin, ignoring whatever OS_* the caller's shell holds.
admin_openstack() {
    local unset_args=() v
    for v in $(compgen -e); do
        case $v in OS_*) unset_args+=(-u "$v") ;; esac
    done
    env "${unset_args[@]}" \
        OS_AUTH_URL="$IDENTITY_LOCAL_URL/v3" OS_IDENTITY_API_VERSION=3 \
        OS_USERNAME=admin OS_PASSWORD="$ADMIN_PASSWORD" OS_PROJECT_NAME=admin \
        OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
        OS_REGION_NAME="$REGION_NAME" OS_INTERFACE=public \
        "$(venv_bin openstack)" "$@"
}

# Service users of the enabled services, one per line.
service_users() {
    local s
    for s in $(enabled_services); do
        if [ -n "${SERVICE_USER_OF[$s]:-}" ]; then printf '%s\n' "${SERVICE_USER_OF[$s]}"; fi
    done
    return 0
}

# The role assignments the accounts step makes, as "role user project".
_wanted_assignments() {
    local u
    printf 'member demo@Default demo@Default\n'
    for u in $(service_users); do
        printf 'admin %s@Default service@Default\n' "$u"
        printf 'service %s@Default service@Default\n' "$u"
    done
}

_accounts_hash() {
    {
        printf '%s\n' "$DEMO_PASSWORD" "$SERVICE_PASSWORD" "$ADMIN_PASSWORD"
        _wanted_assignments
    } | sha256sum | cut -c1-32
}

# True if every wanted role assignment exists (one `openstack` call).
_assignments_present() {
    local have line
    have=$(admin_openstack role assignment list --names -f json 2>>"$STACK_LOG" |
        "$STRATUS_VENV/bin/python" -c '
import json, sys
for a in json.load(sys.stdin):
    print(a.get("Role"), a.get("User"), a.get("Project"))
') || return 1
    while read -r line; do
        grep -qxF "$line" <<<"$have" || return 1
    done < <(_wanted_assignments)
    return 0
}

# _password_works NAME PASSWORD: true if Default-domain user NAME authenticates
# with PASSWORD (an unscoped token, one request).
_password_works() {
    local body
    body=$("$STRATUS_VENV/bin/python" -c '
import json, sys
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": sys.argv[1], "domain": {"name": "Default"}, "password": sys.argv[2]}}}}}))
' "$1" "$2") || return 1
    [ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -X POST \
        -H 'Content-Type: application/json' --data-binary @- \
        "$IDENTITY_LOCAL_URL/v3/auth/tokens" <<<"$body" 2>>"$STACK_LOG")" = 201 ]
}

# _ensure_user NAME PROJECT PASSWORD EXISTING_USERS
# An existing user whose password still works is left alone: setting it again
# would revoke the user's tokens (a re-run must not log the services out).
_ensure_user() {
    if grep -qxF "$1" <<<"$4"; then
        _password_works "$1" "$3" || quiet admin_openstack user set --password "$3" "$1"
    else
        info "creating user $1"
        quiet admin_openstack user create --domain Default --project "$2" --password "$3" "$1"
    fi
}

create_accounts() {
    local roles projects users u
    CURRENT_SEE_ALSO="$IDENTITY_LOG (the identity API's log)"
    # The stamp covers passwords and the wanted set; the listing, a database
    # that was recreated since.
    if [ -f "$ACCOUNTS_STAMP" ] &&
        [ "$(cat "$ACCOUNTS_STAMP")" = "$(_accounts_hash)" ] && _assignments_present; then
        info "demo and service accounts exist; skipping"
        return 0
    fi
    rm -f "$ACCOUNTS_STAMP"
    roles=$(admin_openstack role list -f value -c Name 2>>"$STACK_LOG")
    projects=$(admin_openstack project list -f value -c Name 2>>"$STACK_LOG")
    users=$(admin_openstack user list --domain Default -f value -c Name 2>>"$STACK_LOG")
    if ! grep -qxF service <<<"$roles"; then
        info "creating role service"
        quiet admin_openstack role create service
    fi
    if ! grep -qxF demo <<<"$projects"; then
        info "creating project demo"
        quiet admin_openstack project create --domain Default --description "Demo project" demo
    fi
    _ensure_user demo demo "$DEMO_PASSWORD" "$users"
    quiet admin_openstack role add --project demo --project-domain Default \
        --user demo --user-domain Default member
    if ! grep -qxF service <<<"$projects"; then
        info "creating project service"
        quiet admin_openstack project create --domain Default --description "Service users" service
    fi
    for u in $(service_users); do
        _ensure_user "$u" service "$SERVICE_PASSWORD" "$users"
        quiet admin_openstack role add --project service --project-domain Default \
            --user "$u" --user-domain Default admin
        quiet admin_openstack role add --project service --project-domain Default \
            --user "$u" --user-domain Default service
    done
    _accounts_hash >"$ACCOUNTS_STAMP"
    u=$(service_users | paste -sd ' ' -)
    info "demo project and user (member), project service${u:+, service users: $u}"
}

# _openrc USER PROJECT PASSWORD: the text of an openrc file.
_openrc() {
    cat <<EOF
# Stratus credentials: user $1 in project $2 (written by devstack/stack.sh).
# Use:  source $STRATUS_HOME/openrc$([ "$1" = admin ] || printf '.%s' "$1")   then e.g.  openstack token issue
export OS_AUTH_URL=$IDENTITY_PUBLIC_URL/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=$1
export OS_PASSWORD=$(printf '%q' "$3")
export OS_PROJECT_NAME=$2
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=$REGION_NAME
export OS_INTERFACE=public
case ":\$PATH:" in
    *":$STRATUS_VENV/bin:"*) ;;
    *) export PATH="$STRATUS_VENV/bin:\$PATH" ;;
esac
EOF
}

write_openrc() {
    _openrc admin admin "$ADMIN_PASSWORD" | write_if_changed "$STRATUS_HOME/openrc" 600
    _openrc demo demo "$DEMO_PASSWORD" | write_if_changed "$STRATUS_HOME/openrc.demo" 600
    info "$STRATUS_HOME/openrc (admin), $STRATUS_HOME/openrc.demo (demo)"
}

# authtoken_section SERVICE: the [keystone_authtoken] section of SERVICE's
# config (its service user, for keystonemiddleware and service-to-service calls).
authtoken_section() {
    cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $IDENTITY_PUBLIC_URL
auth_url = $IDENTITY_PUBLIC_URL
auth_type = password
username = ${SERVICE_USER_OF[$1]}
password = $SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
EOF
}

#!/usr/bin/env bash
# shellcheck disable=SC2034  # CURRENT_SEE_ALSO is read by the error trap in common.sh
# REST probes with curl and an admin token, shared by the service hooks (much
# faster than one `openstack` process per check).

REST_ADMIN_TOKEN=''

# Get an admin token from identity into REST_ADMIN_TOKEN, once per run (call it
# in the main shell, not in $(...), so that it sticks).
rest_admin_token() {
    local body headers
    [ -n "$REST_ADMIN_TOKEN" ] && return 0
    body=$(ADMIN_PASSWORD=$ADMIN_PASSWORD "$STRATUS_VENV/bin/python" -c '
import json, os
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"name": "Default"}, "password": os.environ["ADMIN_PASSWORD"]}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}))')
    headers=$(curl -sS --max-time 30 -o /dev/null -D - -H 'Content-Type: application/json' \
        --data-binary @- "$IDENTITY_LOCAL_URL/v3/auth/tokens" <<<"$body" 2>>"$STACK_LOG") ||
        die "cannot reach identity at $IDENTITY_LOCAL_URL for a token; see $IDENTITY_LOG"
    REST_ADMIN_TOKEN=$(sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *\([^[:space:]]*\).*/\1/p' <<<"$headers")
    [ -n "$REST_ADMIN_TOKEN" ] ||
        die "identity refused the admin password (no token from $IDENTITY_LOCAL_URL/v3/auth/tokens); is ADMIN_PASSWORD the one the cloud was set up with?"
    return 0
}

# rest_get URL: GET with the admin token; prints the body, fails on non-2xx.
rest_get() {
    rest_admin_token
    curl -fsS --max-time 30 -H "X-Auth-Token: $REST_ADMIN_TOKEN" "$1"
}

# json_expr PYTHON_EXPR: read JSON on stdin as `d` and print the expression
# (a list is printed one item a line).
json_expr() {
    "$STRATUS_VENV/bin/python" -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
for x in (r if isinstance(r, list) else [r]):
    print(x)
' "$1"
}

# catalog_endpoints NAME TYPE: the endpoints of service NAME (of TYPE) as sorted
# "interface url region" lines; empty when the service is missing.
catalog_endpoints() {
    local services id
    services=$(rest_get "$IDENTITY_LOCAL_URL/v3/services?type=$2") || return 1
    id=$(json_expr "[s[\"id\"] for s in d[\"services\"] if s.get(\"name\") == \"$1\"]" \
        <<<"$services" | head -n 1)
    [ -n "$id" ] || return 0
    rest_get "$IDENTITY_LOCAL_URL/v3/endpoints?service_id=$id" |
        json_expr '["%s %s %s" % (e["interface"], e["url"], e.get("region_id") or e.get("region")) for e in d["endpoints"]]' |
        LC_ALL=C sort
}

# ensure_catalog_service NAME TYPE DESCRIPTION URL: service NAME of TYPE with
# public, internal and admin endpoints at URL in $REGION_NAME; an endpoint of an
# interface with another URL or region is replaced. Idempotent.
ensure_catalog_service() {
    local name=$1 type=$2 description=$3 url=$4 have wanted iface line
    CURRENT_SEE_ALSO="$IDENTITY_LOG (the identity API's log)"
    rest_admin_token
    have=$(catalog_endpoints "$name" "$type") ||
        die "cannot read the $type service's catalog entry from identity at $IDENTITY_LOCAL_URL; see $IDENTITY_LOG"
    wanted=$(printf '%s %s %s\n' admin "$url" "$REGION_NAME" internal "$url" "$REGION_NAME" \
        public "$url" "$REGION_NAME")
    if [ "$have" = "$wanted" ]; then
        info "catalog: service $name ($type) and its endpoints exist"
        CURRENT_SEE_ALSO=''
        return 0
    fi
    if ! admin_openstack service show "$name" >/dev/null 2>>"$STACK_LOG"; then
        info "creating service $name (type $type)"
        quiet admin_openstack service create --name "$name" --description "$description" "$type"
    fi
    for iface in public internal admin; do
        line="$iface $url $REGION_NAME"
        grep -qxF "$line" <<<"$have" && continue
        if grep -q "^$iface " <<<"$have"; then
            info "replacing the $iface $type endpoint ($(grep "^$iface " <<<"$have" | head -n 1))"
            admin_openstack endpoint list --service "$name" --interface "$iface" -f value -c ID \
                2>>"$STACK_LOG" | while read -r id; do
                quiet admin_openstack endpoint delete "$id"
            done
        fi
        info "creating the $iface $type endpoint $url ($REGION_NAME)"
        quiet admin_openstack endpoint create --region "$REGION_NAME" "$name" "$iface" "$url"
    done
    CURRENT_SEE_ALSO=''
}

#!/usr/bin/env bash
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

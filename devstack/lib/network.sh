# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Network (Neutron v2.0 on port 9696): stratus-network-server owns the network
# database, serves the API and, in the same process, the RPC endpoint the
# agents report to (topic network-plugin). stratus-network-dhcp-agent (as
# root, like stack.sh) runs after it: dnsmasq in a qdhcp-<net> namespace per
# network with DHCP, plugged into a standalone bridge brq<net[:11]> until the
# bridge agent exists. unstack.sh stops both through their pid files.
#
# Hooks (see lib/identity.sh): network_configure writes $STRATUS_ETC/network/,
# network_init syncs the database and registers the catalog entry (service
# neutron, type network), network_start starts the server and waits until it
# lists networks with a token.

NETWORK_PORT=${NETWORK_PORT:-9696}
NETWORK_ETC=$STRATUS_ETC/network
NETWORK_CONF=$NETWORK_ETC/network.conf
NETWORK_PASTE=$NETWORK_ETC/api-paste.ini
NETWORK_SERVER_DAEMON=stratus-network-server
NETWORK_SERVER_LOG=$STRATUS_LOGS/network-server.log
NETWORK_DHCP_DAEMON=stratus-network-dhcp-agent
NETWORK_DHCP_LOG=$STRATUS_LOGS/network-dhcp-agent.log
# The agents' own files: no database URL, no service password.
NETWORK_DHCP_CONF=$NETWORK_ETC/dhcp-agent.conf
NETWORK_BRIDGE_DAEMON=stratus-network-bridge-agent
NETWORK_BRIDGE_LOG=$STRATUS_LOGS/network-bridge-agent.log
NETWORK_BRIDGE_CONF=$NETWORK_ETC/bridge-agent.conf
NETWORK_L3_DAEMON=stratus-network-l3-agent
NETWORK_L3_LOG=$STRATUS_LOGS/network-l3-agent.log
NETWORK_L3_CONF=$NETWORK_ETC/l3-agent.conf
NETWORK_METADATA_DAEMON=stratus-network-metadata-agent
NETWORK_METADATA_LOG=$STRATUS_LOGS/network-metadata-agent.log
NETWORK_METADATA_CONF=$NETWORK_ETC/metadata-agent.conf
# The L3 agent's metadata proxies reach the metadata agent through this socket.
NETWORK_METADATA_SOCKET=$STRATUS_DATA/metadata_proxy
# Shared with compute's metadata API (it checks X-Instance-ID-Signature with it).
METADATA_PROXY_SHARED_SECRET=${METADATA_PROXY_SHARED_SECRET:-$SERVICE_PASSWORD}
# The external network's bridge on this host: the public subnet's gateway
# address lives on it, and traffic from it leaves the host masqueraded.
PUBLIC_BRIDGE=${PUBLIC_BRIDGE:-br-ex}
# The host's address for VXLAN tunnels to other hosts' bridge agents (default:
# the address of the interface with the default route).
TUNNEL_LOCAL_IP=${TUNNEL_LOCAL_IP:-}
NETWORK_PUBLIC_URL=http://$SERVICE_HOST:$NETWORK_PORT
NETWORK_LOCAL_URL=http://127.0.0.1:$NETWORK_PORT
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/network.sqlite.
DATABASE_URL_NETWORK=${DATABASE_URL_NETWORK:-}
NETWORK_INIT_STAMP=$STRATUS_DATA/network.init-stamp
# The external network every cloud gets (flat on physical network "public"),
# and the demo project's network behind a router to it.
PUBLIC_NETWORK_NAME=${PUBLIC_NETWORK_NAME:-public}
PUBLIC_NETWORK_CIDR=${PUBLIC_NETWORK_CIDR:-172.24.4.0/24}
DEMO_NETWORK_CIDR=${DEMO_NETWORK_CIDR:-10.0.0.0/24}

network_packages() { echo dnsmasq-base iptables; }

network_configure() {
    is_service_enabled identity ||
        die "the network service needs identity on this machine: ENABLED_SERVICES=\"identity network\""
    mkdir -p "$NETWORK_ETC"
    write_if_changed "$NETWORK_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL
base_mac = fa:16:3e:00:00:00

[database]
$(if [ -n "$DATABASE_URL_NETWORK" ]; then
    printf 'connection = %s' "$DATABASE_URL_NETWORK"
else
    printf '# connection unset: SQLite file under state_path (network.sqlite)'
fi)

[api]
bind_host = 0.0.0.0
bind_port = $NETWORK_PORT
public_endpoint = $NETWORK_PUBLIC_URL

[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan

[ml2_type_flat]
flat_networks = public

[ml2_type_vxlan]
vni_ranges = 1:1000

$(authtoken_section network)

# Port events (network-vif-plugged ...) to compute's os-server-external-events.
[nova]
auth_url = $IDENTITY_PUBLIC_URL
auth_type = password
username = ${SERVICE_USER_OF[network]}
password = $SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = $REGION_NAME

[oslo_messaging_notifications]
driver = messagingv2
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_CONF"
    [ -f "$STRATUS_REPO/etc/network/api-paste.ini" ] ||
        die "$STRATUS_REPO/etc/network/api-paste.ini is missing from the checkout"
    write_if_changed "$NETWORK_PASTE" 644 <"$STRATUS_REPO/etc/network/api-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_PASTE"
    write_if_changed "$NETWORK_DHCP_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[dhcp]
state_path = $STRATUS_DATA/dhcp
# The bridge agent plugs the DHCP ports into the networks' bridges.
bridge_mode = none

[metadata]
metadata_proxy_socket = $NETWORK_METADATA_SOCKET

[agent]
report_interval = 10
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_DHCP_CONF"
    [ -n "$TUNNEL_LOCAL_IP" ] || TUNNEL_LOCAL_IP=$(_network_default_ip)
    write_if_changed "$NETWORK_BRIDGE_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[linux_bridge]
# Flat networks on physical network "public" use the host bridge $PUBLIC_BRIDGE.
bridge_mappings = public:$PUBLIC_BRIDGE

[vxlan]
enable_vxlan = true
local_ip = $TUNNEL_LOCAL_IP

[securitygroup]
enable_security_group = true

[agent]
report_interval = 10
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_BRIDGE_CONF"
    write_if_changed "$NETWORK_L3_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[l3]
state_path = $STRATUS_DATA/l3
# The bridge agent plugs the routers' ports.
plug_into_bridge = false

[metadata]
metadata_proxy_socket = $NETWORK_METADATA_SOCKET

[agent]
report_interval = 10
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_L3_CONF"
    write_if_changed "$NETWORK_METADATA_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[metadata]
metadata_proxy_socket = $NETWORK_METADATA_SOCKET
nova_metadata_host = 127.0.0.1
nova_metadata_port = 8775
metadata_proxy_shared_secret = $METADATA_PROXY_SHARED_SECRET

[agent]
report_interval = 10
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $NETWORK_METADATA_CONF"
    return 0
}

# The address of the interface carrying the default route (VXLAN's local_ip).
_network_default_ip() {
    local dev addr
    dev=$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
    [ -n "$dev" ] && addr=$(ip -o -4 addr show dev "$dev" | awk '{split($4, a, "/"); print a[1]; exit}')
    echo "${addr:-127.0.0.1}"
}

# The host side of the external network: bridge $PUBLIC_BRIDGE holding the
# public subnet's gateway address, forwarding on, and NAT for what leaves the
# host from that subnet (DevStack's br-ex). Idempotent.
_network_setup_public_bridge() {
    local gw prefix cidr=$PUBLIC_NETWORK_CIDR
    prefix=${cidr#*/}
    gw=$("$STRATUS_VENV/bin/python" -c 'import ipaddress, sys; print(next(ipaddress.ip_network(sys.argv[1]).hosts()))' "$cidr")
    ip link show dev "$PUBLIC_BRIDGE" >/dev/null 2>&1 ||
        quiet ip link add "$PUBLIC_BRIDGE" type bridge
    quiet ip link set "$PUBLIC_BRIDGE" up
    # Not "ip … | grep -q": with pipefail, grep quitting early fails the pipe.
    case " $(ip -o addr show dev "$PUBLIC_BRIDGE") " in
        *" $gw/$prefix "*) ;;
        *) quiet ip addr add "$gw/$prefix" dev "$PUBLIC_BRIDGE" ;;
    esac
    quiet sysctl -qw net.ipv4.ip_forward=1
    iptables -t nat -C POSTROUTING -s "$cidr" ! -d "$cidr" -j MASQUERADE 2>/dev/null ||
        quiet iptables -t nat -A POSTROUTING -s "$cidr" ! -d "$cidr" -j MASQUERADE
    info "$PUBLIC_BRIDGE holds $gw/$prefix (the $PUBLIC_NETWORK_NAME subnet's gateway)"
}

# ---------------------------------------------------------------------------
# Database and catalog
# ---------------------------------------------------------------------------

network_manage() {
    quiet "$(venv_bin stratus-manage)" network --config-file "$NETWORK_CONF" "$@"
}

_network_init_hash() {
    {
        hash_files "$NETWORK_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/network" "$STRATUS_REPO/common"
        printf '%s\n' "$REGION_NAME" "$NETWORK_PUBLIC_URL"
    } | sha256sum | cut -c1-32
}

network_init() {
    if [ -z "$DATABASE_URL_NETWORK" ] && [ -s "$STRATUS_DATA/network.sqlite" ] &&
        [ -f "$NETWORK_INIT_STAMP" ] && [ "$(cat "$NETWORK_INIT_STAMP")" = "$(_network_init_hash)" ]; then
        info "database is up to date; skipping db sync"
    else
        rm -f "$NETWORK_INIT_STAMP"
        info "stratus-manage network db sync"
        network_manage db sync
        _network_init_hash >"$NETWORK_INIT_STAMP"
    fi
    ensure_catalog_service neutron network "Network service" "$NETWORK_PUBLIC_URL"
}

# ---------------------------------------------------------------------------
# Daemons
# ---------------------------------------------------------------------------

# Wait until the server lists networks with a token (it validates tokens as
# its service user, so this proves the whole pipeline).
_network_wait_ready() {
    local start code
    start=$(now_ms)
    rest_admin_token
    CURRENT_LOG=$NETWORK_SERVER_LOG
    while :; do
        daemon_pid "$NETWORK_SERVER_DAEMON" >/dev/null ||
            die "$NETWORK_SERVER_DAEMON exited; see $NETWORK_SERVER_LOG"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
            -H "X-Auth-Token: $REST_ADMIN_TOKEN" "$NETWORK_LOCAL_URL/v2.0/networks?limit=1" \
            2>/dev/null || true)
        [ "$code" = 200 ] && break
        if [ $(($(now_ms) - start)) -ge $((SERVICE_TIMEOUT * 1000)) ]; then
            [ "$code" = 000 ] && code="no answer within 10s" || code="HTTP $code"
            die "GET $NETWORK_LOCAL_URL/v2.0/networks still gets $code after ${SERVICE_TIMEOUT}s: the server needs the neutron user in identity; see $NETWORK_SERVER_LOG"
        fi
        sleep 0.2
    done
    info "the network API lists networks ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
}

network_start() {
    local fingerprint body
    fingerprint=$({
        hash_files "$NETWORK_CONF" "$NETWORK_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/network" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    start_daemon "$NETWORK_SERVER_DAEMON" "$fingerprint" "$NETWORK_SERVER_LOG" "$NETWORK_PORT" \
        "$(venv_bin "$NETWORK_SERVER_DAEMON")" --config-file "$NETWORK_CONF" \
        --log-file "$NETWORK_SERVER_LOG"
    wait_for_http "$NETWORK_SERVER_DAEMON" "$NETWORK_LOCAL_URL/healthcheck" "$NETWORK_SERVER_LOG"
    CURRENT_LOG=$NETWORK_SERVER_LOG
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    body=$(curl -sS --max-time 5 "$NETWORK_LOCAL_URL/" 2>&1 || true)
    case $body in
        *'"v2.0"'*) ;;
        *) die "$NETWORK_LOCAL_URL/ does not return the network version list (got: ${body:0:200}); see $NETWORK_SERVER_LOG" ;;
    esac
    CURRENT_LOG_OFFSET=0
    _network_wait_ready
    _network_setup_public_bridge
    _network_start_agent "$NETWORK_BRIDGE_DAEMON" "$NETWORK_BRIDGE_CONF" "$NETWORK_BRIDGE_LOG" \
        "Linux bridge agent"
    _network_start_agent "$NETWORK_DHCP_DAEMON" "$NETWORK_DHCP_CONF" "$NETWORK_DHCP_LOG" \
        "DHCP agent"
    _network_start_agent "$NETWORK_METADATA_DAEMON" "$NETWORK_METADATA_CONF" \
        "$NETWORK_METADATA_LOG" "Metadata agent"
    _network_start_agent "$NETWORK_L3_DAEMON" "$NETWORK_L3_CONF" "$NETWORK_L3_LOG" "L3 agent"
    _network_create_defaults
}

# _network_start_agent DAEMON CONF LOG AGENT_TYPE: start an agent (as root) and
# wait until the server lists it alive on this host.
_network_start_agent() {
    local daemon=$1 conf=$2 log=$3 agent_type=$4 fingerprint start alive
    local fp_file=$STRATUS_RUN/$1.fingerprint
    fingerprint=$({
        hash_files "$conf" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/network" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    start_daemon "$daemon" "$fingerprint" "$log" - \
        "$(venv_bin "$daemon")" --config-file "$conf" --log-file "$log"
    start=$(now_ms)
    CURRENT_LOG=$log
    while :; do
        if ! daemon_pid "$daemon" >/dev/null; then
            rm -f "$fp_file.pending"
            die "$daemon exited; see $log"
        fi
        alive=$(rest_get "$NETWORK_LOCAL_URL/v2.0/agents?agent_type=${agent_type// /%20}&host=$(hostname)" 2>/dev/null |
            json_expr "[a['alive'] for a in d['agents']][:1]" 2>/dev/null || true)
        [ "$alive" = True ] && break
        if [ $(($(now_ms) - start)) -ge $((SERVICE_TIMEOUT * 1000)) ]; then
            rm -f "$fp_file.pending"
            die "$daemon did not report to the server within ${SERVICE_TIMEOUT}s; see $log"
        fi
        sleep 0.5
    done
    [ -f "$fp_file.pending" ] && mv -f "$fp_file.pending" "$fp_file"
    info "$daemon reports to the server ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
}

# _network_id COLLECTION NAME: the id of the first COLLECTION item named NAME
# (empty when there is none).
_network_id() {
    rest_get "$NETWORK_LOCAL_URL/v2.0/$1?name=$2&fields=id" |
        json_expr "[i['id'] for i in d['$1']][:1]"
}

# The networks every cloud starts with: an external flat network
# $PUBLIC_NETWORK_NAME with a subnet, and the demo project's network "private"
# with a router "router1" whose gateway is on the external network. Each piece
# is created only when missing, so an interrupted run completes on the next.
_network_create_defaults() {
    local router gw ifaces
    CURRENT_SEE_ALSO=$NETWORK_SERVER_LOG
    if [ -z "$(_network_id networks "$PUBLIC_NETWORK_NAME")" ]; then
        info "creating external network $PUBLIC_NETWORK_NAME"
        quiet admin_openstack network create --external --no-share \
            --provider-network-type flat --provider-physical-network public "$PUBLIC_NETWORK_NAME"
    fi
    if [ -z "$(_network_id subnets "$PUBLIC_NETWORK_NAME-subnet")" ]; then
        info "creating subnet $PUBLIC_NETWORK_NAME-subnet ($PUBLIC_NETWORK_CIDR)"
        quiet admin_openstack subnet create --network "$PUBLIC_NETWORK_NAME" --no-dhcp \
            --subnet-range "$PUBLIC_NETWORK_CIDR" "$PUBLIC_NETWORK_NAME-subnet"
    fi
    if [ -z "$(_network_id networks private)" ]; then
        info "creating the demo project's network private"
        quiet admin_openstack network create --project demo private
    fi
    if [ -z "$(_network_id subnets private-subnet)" ]; then
        info "creating subnet private-subnet ($DEMO_NETWORK_CIDR)"
        quiet admin_openstack subnet create --project demo --network private \
            --subnet-range "$DEMO_NETWORK_CIDR" private-subnet
    fi
    router=$(_network_id routers router1)
    if [ -z "$router" ]; then
        info "creating the demo project's router router1"
        quiet admin_openstack router create --project demo router1
        router=$(_network_id routers router1)
    fi
    gw=$(rest_get "$NETWORK_LOCAL_URL/v2.0/routers/$router" |
        json_expr "d['router']['external_gateway_info'] is not None")
    if [ "$gw" != True ]; then
        info "setting router1's gateway on $PUBLIC_NETWORK_NAME"
        quiet admin_openstack router set --external-gateway "$PUBLIC_NETWORK_NAME" router1
    fi
    ifaces=$(rest_get "$NETWORK_LOCAL_URL/v2.0/ports?device_id=$router&device_owner=network:router_interface&fields=id" |
        json_expr "[p['id'] for p in d['ports']]")
    if [ -z "$ifaces" ]; then
        info "attaching private-subnet to router1"
        quiet admin_openstack router add subnet router1 private-subnet
    fi
    CURRENT_SEE_ALSO=''
    info "networks: $PUBLIC_NETWORK_NAME (external), private (demo) behind router1"
}

network_summary() {
    say "  Network API:   $NETWORK_PUBLIC_URL   (log $NETWORK_SERVER_LOG; config $NETWORK_CONF)"
    say "                 agents: bridge, DHCP, L3, metadata (logs $STRATUS_LOGS/network-*-agent.log)"
    say "                 external network $PUBLIC_NETWORK_NAME on bridge $PUBLIC_BRIDGE ($PUBLIC_NETWORK_CIDR)"
}

"""Bad input anywhere gets a Neutron 4xx, never a 500 (``Api.call`` asserts it)."""
from __future__ import annotations

import itertools
from typing import Any

from network_api_helpers import Api, project

_JUNK: list[Any] = [None, True, 0, -1, 2 ** 70, 1.5, "", "x" * 300, "\u0000", [], {},
                    [None], {"a": None}, "10.0.0.0/33", "zz:zz", "../../etc/passwd"]
_COLLECTIONS = {
    "networks": ["name", "admin_state_up", "shared", "mtu", "provider:network_type",
                 "provider:segmentation_id", "port_security_enabled", "description"],
    "subnets": ["network_id", "cidr", "ip_version", "gateway_ip", "allocation_pools",
                "dns_nameservers", "host_routes", "enable_dhcp", "subnetpool_id",
                "prefixlen", "ipv6_ra_mode"],
    "ports": ["network_id", "mac_address", "fixed_ips", "security_groups",
              "allowed_address_pairs", "extra_dhcp_opts", "binding:profile",
              "device_owner", "port_security_enabled"],
    "security-groups": ["name", "stateful"],
    "security-group-rules": ["security_group_id", "direction", "protocol",
                             "port_range_min", "remote_ip_prefix", "ethertype"],
    "routers": ["name", "external_gateway_info", "admin_state_up"],
    "floatingips": ["floating_network_id", "port_id", "fixed_ip_address",
                    "floating_ip_address"],
    "subnetpools": ["prefixes", "default_prefixlen", "min_prefixlen", "shared"],
}
_SINGULAR = {"networks": "network", "subnets": "subnet", "ports": "port",
             "security-groups": "security_group",
             "security-group-rules": "security_group_rule", "routers": "router",
             "floatingips": "floatingip", "subnetpools": "subnetpool"}


def test_no_500_on_junk_attributes(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.60.0.0/24")
    sg = api.create("security-groups", p, {"name": "junk"})
    base: dict[str, dict[str, Any]] = {
        "subnets": {"network_id": net["id"], "ip_version": 4, "cidr": "10.61.0.0/24"},
        "ports": {"network_id": net["id"]},
        "security-group-rules": {"security_group_id": sg["id"], "direction": "ingress"},
        "floatingips": {"floating_network_id": net["id"]},
        "subnetpools": {"prefixes": ["10.200.0.0/16"]},
    }
    for collection, attrs in _COLLECTIONS.items():
        for attr, junk in itertools.product(attrs, _JUNK):
            body = dict(base.get(collection, {}), **{attr: junk})
            resp = api.call("POST", "/v2.0/" + collection, p,
                            json_body={_SINGULAR[collection]: body})
            if resp.status_int == 201:
                created = resp.json[_SINGULAR[collection]]
                api.call("DELETE", "/v2.0/%s/%s" % (collection, created["id"]), p)
    for attr, junk in itertools.product(["name", "gateway_ip", "allocation_pools",
                                         "host_routes", "enable_dhcp"], _JUNK):
        api.call("PUT", "/v2.0/subnets/" + sub["id"], p,
                 json_body={"subnet": {attr: junk}})


def test_no_500_on_junk_requests(api: Api) -> None:
    p = project()
    paths = ["/v2.0/networks", "/v2.0/networks/x", "/v2.0/ports/%00", "/v2.0/routers/x/"
             "add_router_interface", "/v2.0/quotas/x", "/v2.0/extensions/x",
             "/v2.0/networks/x/tags/y", "/v2.0/floatingips?limit=1&marker=zz",
             "/v2.0/ports?sort_key=id&sort_dir=up", "/v2.0/networks?fields=",
             "/v2.0/agents/x/dhcp-networks", "/v2.0/security-groups?name=%ff"]
    bodies: list[bytes | None] = [None, b"", b"{", b"[]", b"null", b'{"a": 1}', b"\xff"]
    for path, method, body in itertools.product(paths, ["GET", "POST", "PUT", "DELETE"],
                                                bodies):
        api.call(method, path, p, body=body,
                 headers={"Content-Type": "application/json"} if body else None)

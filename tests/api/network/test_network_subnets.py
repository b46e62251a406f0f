"""Subnets and subnet pools."""
from __future__ import annotations

from network_api_helpers import Api, error_type, project


def test_defaults(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.1.0.0/24")
    assert sub["gateway_ip"] == "10.1.0.1"
    assert sub["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    assert sub["enable_dhcp"] is True and sub["ip_version"] == 4
    assert sub["dns_nameservers"] == [] and sub["host_routes"] == []
    assert sub["ipv6_ra_mode"] is None and sub["subnetpool_id"] is None
    shown = api.show("networks", p, net["id"])
    assert shown["subnets"] == [sub["id"]] and shown["revision_number"] == 1


def test_all_attributes_and_update(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {})
    sub = api.create("subnets", p, {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.2.0.0/24", "name": "s",
        "gateway_ip": "10.2.0.254", "enable_dhcp": False,
        "allocation_pools": [{"start": "10.2.0.10", "end": "10.2.0.20"}],
        "dns_nameservers": ["8.8.8.8", "1.1.1.1"],
        "host_routes": [{"destination": "10.20.0.0/16", "nexthop": "10.2.0.3"}]})
    assert sub["gateway_ip"] == "10.2.0.254" and sub["enable_dhcp"] is False
    assert sub["dns_nameservers"] == ["8.8.8.8", "1.1.1.1"]
    assert sub["host_routes"] == [{"destination": "10.20.0.0/16", "nexthop": "10.2.0.3"}]
    updated = api.update("subnets", p, sub["id"], {"dns_nameservers": [], "name": "t",
                                                   "gateway_ip": None})
    assert updated["dns_nameservers"] == [] and updated["gateway_ip"] is None
    api.update("subnets", p, sub["id"], {"cidr": "10.3.0.0/24"}, status=400)


def test_gateway_null(api: Api) -> None:
    p = project()
    _net, sub = api.network_with_subnet(p, "10.4.0.0/29", gateway_ip=None)
    assert sub["gateway_ip"] is None
    assert sub["allocation_pools"] == [{"start": "10.4.0.1", "end": "10.4.0.6"}]


def test_ipv6_modes(api: Api) -> None:
    p = project()
    net = api.create("networks", p, {})
    sub = api.create("subnets", p, {"network_id": net["id"], "ip_version": 6,
                                    "cidr": "2001:db8::/64", "ipv6_ra_mode": "slaac",
                                    "ipv6_address_mode": "slaac"})
    assert sub["gateway_ip"] == "2001:db8::1"
    assert sub["ipv6_address_mode"] == "slaac"
    port = api.create("ports", p, {"network_id": net["id"]})
    assert port["fixed_ips"][0]["ip_address"].startswith("2001:db8::")
    api.create("subnets", p, {"network_id": net["id"], "ip_version": 4, "cidr": "10.9.0.0/24",
                              "ipv6_ra_mode": "slaac"}, status=400)


def test_bad_subnets(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.5.0.0/24")
    base = {"network_id": net["id"], "ip_version": 4}
    cases = [
        (dict(base, cidr="10.5.0.128/25"), "InvalidInput"),          # overlaps
        (dict(base, cidr="10.5.1.1/24"), "InvalidInput"),            # host bits set
        (dict(base, cidr="not-a-cidr"), "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", ip_version=6), "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", ip_version=5), "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", gateway_ip="10.7.0.1"), "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", allocation_pools=[
            {"start": "10.6.0.10", "end": "10.6.1.5"}]), "InvalidAllocationPool"),
        (dict(base, cidr="10.6.0.0/24", dns_nameservers=["x"]), "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", dns_nameservers=["1.1.1.1", "1.1.1.1"]),
         "InvalidInput"),
        (dict(base, cidr="10.6.0.0/24", host_routes=[{"destination": "x"}]),
         "InvalidInput"),
        (dict(base, network_id="not-a-uuid", cidr="10.6.0.0/24"), "InvalidInput"),
        ({"ip_version": 4, "cidr": "10.6.0.0/24"}, "HTTPBadRequest"),
        (dict(base), "BadRequest"),
    ]
    for body, kind in cases:
        resp = api.call("POST", "/v2.0/subnets", p, json_body={"subnet": body}, status=400)
        assert error_type(resp) == kind, (body, resp.json)
    resp = api.call("POST", "/v2.0/subnets", p, json_body={"subnet": dict(
        base, cidr="10.6.0.0/24", allocation_pools=[
            {"start": "10.6.0.10", "end": "10.6.0.20"},
            {"start": "10.6.0.15", "end": "10.6.0.30"}])}, status=409)
    assert error_type(resp) == "OverlappingAllocationPools"
    resp = api.call("POST", "/v2.0/subnets", p, json_body={"subnet": dict(
        base, cidr="10.6.0.0/24", gateway_ip="10.6.0.12",
        allocation_pools=[{"start": "10.6.0.10", "end": "10.6.0.20"}])}, status=409)
    assert error_type(resp) == "GatewayConflictWithAllocationPools"


def test_subnet_on_other_projects_network(api: Api) -> None:
    owner = project()
    net = api.create("networks", owner, {})
    resp = api.call("POST", "/v2.0/subnets", project(), json_body={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.8.0.0/24"}}, status=404)
    assert error_type(resp) == "NetworkNotFound"
    _net, sub = api.network_with_subnet(owner, "10.8.0.0/24")
    api.show("subnets", project(), sub["id"], status=404)


def test_delete_in_use(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.10.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    resp = api.delete("subnets", p, sub["id"], status=409)
    assert error_type(resp.json and resp) == "SubnetInUse"
    resp = api.delete("networks", p, net["id"], status=409)
    assert error_type(resp) == "NetworkInUse"
    api.delete("ports", p, port["id"])
    api.create("ports", p, {"network_id": net["id"], "device_owner": "network:dhcp"},
               roles="member,reader")
    api.delete("subnets", p, sub["id"])
    api.delete("networks", p, net["id"])
    api.show("subnets", p, sub["id"], status=404)


def test_subnetpools(api: Api) -> None:
    p = project()
    pool = api.create("subnetpools", p, {"name": "pool", "prefixes": ["10.100.0.0/16"],
                                         "default_prefixlen": 24})
    assert pool["ip_version"] == 4 and pool["min_prefixlen"] == 8
    assert pool["max_prefixlen"] == 32 and pool["prefixes"] == ["10.100.0.0/16"]
    net = api.create("networks", p, {})
    one = api.create("subnets", p, {"network_id": net["id"], "ip_version": 4,
                                    "subnetpool_id": pool["id"]})
    two = api.create("subnets", p, {"network_id": net["id"], "ip_version": 4,
                                    "subnetpool_id": pool["id"], "prefixlen": 26})
    assert one["cidr"] == "10.100.0.0/24" and one["subnetpool_id"] == pool["id"]
    assert two["cidr"] == "10.100.1.0/26"
    resp = api.call("POST", "/v2.0/subnets", p, json_body={"subnet": {
        "network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"],
        "cidr": "10.200.0.0/24"}}, status=409)
    assert error_type(resp) == "SubnetAllocationError"
    api.delete("subnetpools", p, pool["id"], status=409)
    updated = api.update("subnetpools", p, pool["id"], {
        "prefixes": ["10.100.0.0/16", "10.101.0.0/16"]})
    assert updated["prefixes"] == ["10.100.0.0/15"]
    api.create("subnetpools", p, {"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, status=400)
    api.create("subnetpools", p, {"prefixes": ["10.0.0.0/8"], "shared": True}, status=403)
    api.show("subnetpools", project(), pool["id"], status=404)

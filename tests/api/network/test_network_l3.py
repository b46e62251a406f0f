"""Routers (gateway, interfaces, routes) and floating IPs."""
from __future__ import annotations

from typing import Any

from network_api_helpers import Api, error_type, project


def test_router_gateway_and_interfaces(api: Api, public: dict[str, Any]) -> None:
    p = project()
    ext = public["network"]["id"]
    router = api.create("routers", p, {"name": "r1"})
    assert router["external_gateway_info"] is None and router["status"] == "ACTIVE"
    router = api.update("routers", p, router["id"], {"external_gateway_info": {
        "network_id": ext}})
    info = router["external_gateway_info"]
    assert info["network_id"] == ext and info["enable_snat"] is True
    assert info["external_fixed_ips"][0]["subnet_id"] == public["subnet"]["id"]
    api.update("routers", p, router["id"], {"external_gateway_info": {
        "network_id": ext, "enable_snat": False}}, status=403)
    net, sub = api.network_with_subnet(p, "10.40.0.0/24")
    iface = api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
                     json_body={"subnet_id": sub["id"]}, status=200).json
    assert iface["subnet_id"] == sub["id"] and iface["network_id"] == net["id"]
    port = api.show("ports", p, iface["port_id"])
    assert port["device_owner"] == "network:router_interface"
    assert port["device_id"] == router["id"]
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.40.0.1"}]
    resp = api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
                    json_body={"subnet_id": sub["id"]}, status=400)
    assert error_type(resp) == "BadRequest"
    # Overlapping subnets on one router.
    _net2, sub2 = api.network_with_subnet(p, "10.40.0.0/25")
    resp = api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
                    json_body={"subnet_id": sub2["id"]}, status=400)
    assert error_type(resp) == "BadRequest"
    # Interface by port.
    net3, _sub3 = api.network_with_subnet(p, "10.41.0.0/24")
    free = api.create("ports", p, {"network_id": net3["id"]})
    by_port = api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
                       json_body={"port_id": free["id"]}, status=200).json
    assert by_port["port_id"] == free["id"]
    api.delete("ports", p, free["id"], status=409)
    routed = api.update("routers", p, router["id"], {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.40.0.10"}]})
    assert routed["routes"] == [{"destination": "192.168.0.0/24", "nexthop": "10.40.0.10"}]
    api.update("routers", p, router["id"], {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.99.0.10"}]}, status=400)
    api.update("routers", p, router["id"], {"routes": []})
    resp = api.delete("routers", p, router["id"], status=409)
    assert error_type(resp) == "RouterInUse"
    api.delete("networks", p, net["id"], status=409)
    api.call("PUT", "/v2.0/routers/%s/remove_router_interface" % router["id"], p,
             json_body={"subnet_id": sub["id"]}, status=200)
    api.call("PUT", "/v2.0/routers/%s/remove_router_interface" % router["id"], p,
             json_body={"port_id": free["id"]}, status=200)
    resp = api.call("PUT", "/v2.0/routers/%s/remove_router_interface" % router["id"], p,
                    json_body={"subnet_id": sub["id"]}, status=404)
    assert error_type(resp) == "RouterInterfaceNotFoundForSubnet"
    api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
             json_body={}, status=400)
    cleared = api.update("routers", p, router["id"], {"external_gateway_info": {}})
    assert cleared["external_gateway_info"] is None
    api.delete("routers", p, router["id"])
    api.delete("networks", p, net["id"])


def test_gateway_needs_external_network(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.42.0.0/24")
    resp = api.call("POST", "/v2.0/routers", p, json_body={"router": {
        "external_gateway_info": {"network_id": net["id"]}}}, status=400)
    assert error_type(resp) == "BadRequest"
    api.create("routers", p, {"external_gateway_info": {"network_id": "x"}}, status=400)


def test_floating_ip_flow(api: Api, public: dict[str, Any]) -> None:
    p = project()
    ext = public["network"]["id"]
    net, sub = api.network_with_subnet(p, "10.50.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    fip = api.create("floatingips", p, {"floating_network_id": ext})
    assert fip["floating_ip_address"].startswith("172.24.4.")
    assert fip["port_id"] is None and fip["status"] == "DOWN" and fip["router_id"] is None
    resp = api.call("PUT", "/v2.0/floatingips/" + fip["id"], p, json_body={
        "floatingip": {"port_id": port["id"]}}, status=404)
    assert error_type(resp) == "ExternalGatewayForFloatingIPNotFound"
    router = api.create("routers", p, {"external_gateway_info": {"network_id": ext}})
    api.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], p,
             json_body={"subnet_id": sub["id"]}, status=200)
    fixed = port["fixed_ips"][0]["ip_address"]
    assoc = api.update("floatingips", p, fip["id"], {"port_id": port["id"],
                                                     "fixed_ip_address": fixed})
    assert assoc["port_id"] == port["id"] and assoc["router_id"] == router["id"]
    # DOWN until the L3 agent hosting the router reports it wired.
    assert assoc["fixed_ip_address"] == fixed and assoc["status"] == "DOWN"
    second = api.call("POST", "/v2.0/floatingips", p, json_body={"floatingip": {
        "floating_network_id": ext, "port_id": port["id"]}}, status=409)
    assert error_type(second) == "FloatingIPPortAlreadyAssociated"
    resp = api.call("PUT", "/v2.0/routers/%s/remove_router_interface" % router["id"], p,
                    json_body={"subnet_id": sub["id"]}, status=409)
    assert error_type(resp) == "RouterInterfaceInUseByFloatingIP"
    assert api.ids("floatingips", p, "port_id=" + port["id"]) == [fip["id"]]
    dis = api.update("floatingips", p, fip["id"], {"port_id": None})
    assert dis["port_id"] is None and dis["router_id"] is None
    api.delete("floatingips", p, fip["id"])
    api.show("floatingips", p, fip["id"], status=404)
    # Not an external network.
    resp = api.call("POST", "/v2.0/floatingips", p, json_body={"floatingip": {
        "floating_network_id": net["id"]}}, status=400)
    assert error_type(resp) == "BadRequest"
    # A chosen floating address needs admin; in use is 409.
    chosen = api.create("floatingips", api.ADMIN, {"floating_network_id": ext,
                                                  "floating_ip_address": "172.24.4.200"},
                        roles=api.ADMIN_ROLES)
    assert chosen["floating_ip_address"] == "172.24.4.200"
    resp = api.call("POST", "/v2.0/floatingips", api.ADMIN, roles=api.ADMIN_ROLES,
                    json_body={"floatingip": {"floating_network_id": ext,
                                              "floating_ip_address": "172.24.4.200"}},
                    status=409)
    assert error_type(resp) == "IpAddressInUse"
    api.create("floatingips", p, {"floating_network_id": ext,
                                  "floating_ip_address": "172.24.4.201"}, status=403)
    other = project()
    api.show("floatingips", other, chosen["id"], status=404)
    # A port of another project cannot be associated.
    foreign = api.create("floatingips", other, {"floating_network_id": ext})
    api.update("floatingips", other, foreign["id"], {"port_id": port["id"]}, status=404)


def test_external_network_delete_takes_its_floating_ips(api: Api) -> None:
    admin, roles = api.ADMIN, api.ADMIN_ROLES
    ext = api.create("networks", admin, {"router:external": True}, roles=roles)
    sub = api.create("subnets", admin, {"network_id": ext["id"], "ip_version": 4,
                                        "cidr": "198.51.100.0/24"}, roles=roles)
    fip = api.create("floatingips", admin, {"floating_network_id": ext["id"]}, roles=roles)
    # Other projects see the external network but not its subnets.
    other = project()
    assert ext["id"] in api.ids("networks", other, "router:external=True")
    assert api.ids("subnets", other, "network_id=" + ext["id"]) == []
    api.delete("networks", admin, ext["id"], roles=roles)
    api.show("floatingips", admin, fip["id"], roles=roles, status=404)
    api.show("subnets", admin, sub["id"], roles=roles, status=404)

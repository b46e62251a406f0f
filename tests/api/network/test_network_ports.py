"""Ports: IPAM, MACs, bindings, security groups, address pairs, DHCP options."""
from __future__ import annotations

import re

from network_api_helpers import Api, error_type, project

MAC = re.compile(r"^fa:16:3e(:[0-9a-f]{2}){3}$")


def test_create_defaults(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.0.0.0/24")
    port = api.create("ports", p, {"network_id": net["id"], "name": "p1"})
    assert MAC.match(port["mac_address"])
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.2"}]
    assert port["status"] == "DOWN" and port["device_owner"] == ""
    assert port["port_security_enabled"] is True
    assert len(port["security_groups"]) == 1
    default = api.show("security-groups", p, port["security_groups"][0])
    assert default["name"] == "default"
    assert "binding:host_id" not in port and port["binding:vnic_type"] == "normal"
    admin_view = api.show("ports", api.ADMIN, port["id"], roles=api.ADMIN_ROLES)
    assert admin_view["binding:vif_type"] == "unbound" and admin_view["binding:host_id"] == ""


def test_fixed_ips(api: Api) -> None:
    p = project()
    net, sub = api.network_with_subnet(p, "10.0.1.0/24", allocation_pools=[
        {"start": "10.0.1.100", "end": "10.0.1.110"}])
    port = api.create("ports", p, {"network_id": net["id"],
                                   "fixed_ips": [{"subnet_id": sub["id"]}]})
    assert port["fixed_ips"][0]["ip_address"] == "10.0.1.100"
    chosen = api.create("ports", p, {"network_id": net["id"],
                                     "fixed_ips": [{"ip_address": "10.0.1.50"}]})
    assert chosen["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.1.50"}]
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.1.50"}]}}, status=409)
    assert error_type(resp) == "IpAddressInUse"
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "fixed_ips": [{"subnet_id": sub["id"],
                                                "ip_address": "10.0.9.5"}]}}, status=400)
    assert error_type(resp) == "InvalidIpForSubnet"
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "192.168.0.5"}]}}, status=400)
    assert error_type(resp) == "InvalidInput"
    api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.1.255"}]}}, status=400)
    # A second address on update; the first stays.
    updated = api.update("ports", p, port["id"], {"fixed_ips": [
        {"subnet_id": sub["id"], "ip_address": "10.0.1.100"},
        {"subnet_id": sub["id"], "ip_address": "10.0.1.60"}]})
    assert {f["ip_address"] for f in updated["fixed_ips"]} == {"10.0.1.100", "10.0.1.60"}
    assert api.ids("ports", p, "fixed_ips=ip_address%3D10.0.1.60") == [port["id"]]
    assert api.ids("ports", p, "fixed_ips=ip_address_substr%3D1.60") == [port["id"]]
    assert api.ids("ports", p, "fixed_ips=subnet_id%3D" + sub["id"] +
                   "&fixed_ips=ip_address%3D10.0.1.60") == [port["id"]]
    # Deleting a port returns its addresses.
    api.delete("ports", p, chosen["id"])
    again = api.create("ports", p, {"network_id": net["id"],
                                    "fixed_ips": [{"ip_address": "10.0.1.50"}]})
    assert again["fixed_ips"][0]["ip_address"] == "10.0.1.50"


def test_exhausted_pool(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.2.0/29", allocation_pools=[
        {"start": "10.0.2.2", "end": "10.0.2.3"}])
    made = [api.create("ports", p, {"network_id": net["id"]}) for _ in range(2)]
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {"network_id": net["id"]}},
                    status=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    api.delete("ports", p, made[0]["id"])
    api.create("ports", p, {"network_id": net["id"]})


def test_macs(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.3.0/24")
    port = api.create("ports", p, {"network_id": net["id"], "mac_address": "FA:16:3E:00:00:01"})
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "mac_address": "fa:16:3e:00:00:01"}}, status=409)
    assert error_type(resp) == "MacAddressInUse"
    for bad in ("zz:16:3e:00:00:01", "00:00:00:00:00:00", "fa:16:3e", 5):
        api.call("POST", "/v2.0/ports", p, json_body={"port": {
            "network_id": net["id"], "mac_address": bad}}, status=400)
    macs = {api.create("ports", p, {"network_id": net["id"]})["mac_address"]
            for _ in range(10)}
    assert len(macs) == 10


def test_port_on_missing_or_foreign_network(api: Api) -> None:
    p = project()
    resp = api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": "9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a5"}}, status=404)
    assert error_type(resp) == "NetworkNotFound"
    other_net, _ = api.network_with_subnet(project(), "10.0.4.0/24")
    api.call("POST", "/v2.0/ports", p, json_body={"port": {"network_id": other_net["id"]}},
             status=404)
    api.call("POST", "/v2.0/ports", p, json_body={"port": {"network_id": "bad"}},
             status=400)


def test_binding_is_admin_only(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.5.0/24")
    api.call("POST", "/v2.0/ports", p, json_body={"port": {
        "network_id": net["id"], "binding:host_id": "h1"}}, status=403)
    port = api.create("ports", p, {"network_id": net["id"], "device_owner": "compute:nova",
                                   "device_id": "vm1"})
    bound = api.update("ports", api.ADMIN, port["id"], {"binding:host_id": "host1",
                                                       "binding:profile": {"a": 1}},
                       roles=api.ADMIN_ROLES)
    assert bound["binding:vif_type"] == "bridge" and bound["binding:host_id"] == "host1"
    assert bound["binding:vif_details"]["port_filter"] is True
    assert bound["binding:profile"] == {"a": 1}
    assert "binding:vif_type" not in api.show("ports", p, port["id"])


def test_security_and_pairs(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.6.0/24")
    sg = api.create("security-groups", p, {"name": "web"})
    port = api.create("ports", p, {"network_id": net["id"], "security_groups": [sg["id"]],
                                   "allowed_address_pairs": [{"ip_address": "10.0.6.200"}],
                                   "extra_dhcp_opts": [{"opt_name": "bootfile-name",
                                                        "opt_value": "pxe.0"}]})
    assert port["security_groups"] == [sg["id"]]
    assert port["allowed_address_pairs"] == [{"ip_address": "10.0.6.200",
                                              "mac_address": port["mac_address"]}]
    assert port["extra_dhcp_opts"] == [{"opt_name": "bootfile-name", "opt_value": "pxe.0",
                                        "ip_version": 4}]
    api.update("ports", p, port["id"], {"port_security_enabled": False}, status=400)
    off = api.update("ports", p, port["id"], {"port_security_enabled": False,
                                              "security_groups": [],
                                              "allowed_address_pairs": []})
    assert off["port_security_enabled"] is False and off["security_groups"] == []
    api.update("ports", p, port["id"], {"security_groups": [sg["id"]]}, status=400)
    insecure = api.create("ports", p, {"network_id": net["id"],
                                       "port_security_enabled": False})
    assert insecure["security_groups"] == []
    api.create("ports", p, {"network_id": net["id"],
                            "security_groups": ["9b6ee6b8-3d86-4b5b-a1a5-e5f5a6f5a5a5"]},
               status=404)
    api.delete("security-groups", p, sg["id"], status=204)


def test_bulk_ports_and_filters(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.7.0/24")
    resp = api.call("POST", "/v2.0/ports", p, json_body={"ports": [
        {"network_id": net["id"], "name": "a"}, {"network_id": net["id"], "name": "b"}]},
        status=201)
    ports = resp.json["ports"]
    ips = {p_["fixed_ips"][0]["ip_address"] for p_ in ports}
    assert len(ips) == 2
    assert sorted(api.ids("ports", p, "network_id=" + net["id"])) == sorted(
        x["id"] for x in ports)
    assert len(api.ids("ports", p, "name=a")) == 1
    body = api.list("ports", p, "fields=mac_address&network_id=" + net["id"])
    assert all(list(x) == ["mac_address"] for x in body["ports"])


def test_other_projects_port_is_404(api: Api) -> None:
    p = project()
    net, _sub = api.network_with_subnet(p, "10.0.8.0/24")
    port = api.create("ports", p, {"network_id": net["id"]})
    other = project()
    api.show("ports", other, port["id"], status=404)
    api.update("ports", other, port["id"], {"name": "x"}, status=404)
    api.delete("ports", other, port["id"], status=404)

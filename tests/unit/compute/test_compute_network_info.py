"""compute.network_info against the real network API over HTTP (the in-process
network server of tests.fixtures.network behind a local HTTP server; see
test_compute_clients_network.Cloud): validation, allocation, binding, rollback,
deallocation, the network_info model and the server's addresses."""
from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from compute import exception
from compute import network_info as ni
from compute.clients import network as neutron

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compute_clients_network import (  # noqa: E402
    ADMIN_ROLES, Cloud, project, running_cloud)

HOST = "node-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from running_cloud(tmp_path_factory)


def instance(proj: str, **extra: Any) -> dict[str, Any]:
    return dict({"uuid": str(uuid.uuid4()), "project_id": proj}, **extra)


def admin_port(cloud: Cloud, port_id: str) -> dict[str, Any]:
    return dict(cloud.call("GET", "/v2.0/ports/" + port_id, "admin", roles=ADMIN_ROLES,
                           status=200)["port"])


def test_allocate_on_a_network_creates_and_binds_a_port(cloud: Cloud) -> None:
    proj = project()
    net, sub = cloud.network(proj, cidr="10.10.0.0/24", name="private",
                             dns_nameservers=["10.10.0.2"],
                             host_routes=[{"destination": "192.168.0.0/16",
                                           "nexthop": "10.10.0.254"}])
    cloud.call("PUT", "/v2.0/networks/" + net["id"], proj, {"network": {"mtu": 1450}},
               status=200)
    # A DHCP port, as the DHCP agent would make it.
    cloud.call("POST", "/v2.0/ports", "admin", {"port": {
        "network_id": net["id"], "project_id": proj, "device_owner": "network:dhcp",
        "device_id": "dhcp-x", "fixed_ips": [{"ip_address": "10.10.0.3"}]}}, ADMIN_ROLES,
        201)
    ctxt = cloud.user(proj)
    inst = instance(proj, availability_zone="az1")
    info = ni.allocate_for_instance(cloud.conf, ctxt, inst, [{"uuid": net["id"]}],
                                    ["default"], HOST)
    assert json.loads(json.dumps(info)) == info
    [vif] = info
    port = admin_port(cloud, vif["id"])
    assert (port["device_id"], port["device_owner"], port["project_id"]) == (
        inst["uuid"], "compute:az1", proj)
    assert port["binding:host_id"] == HOST
    assert len(port["security_groups"]) == 1  # the project's default, by the network service
    address = port["fixed_ips"][0]["ip_address"]
    assert vif == {
        "id": port["id"], "address": port["mac_address"], "type": "bridge",
        "devname": "tap" + port["id"][:11], "active": False, "preserve_on_delete": False,
        "vnic_type": "normal", "details": port["binding:vif_details"], "profile": {},
        "meta": {},
        "network": {
            "id": net["id"], "label": "private", "bridge": "brq" + net["id"][:11],
            "mtu": 1450, "injected": False, "meta": {"tenant_id": proj, "mtu": 1450},
            "subnets": [{
                "cidr": "10.10.0.0/24", "version": 4,
                "gateway": {"address": sub["gateway_ip"], "type": "gateway", "version": 4,
                            "meta": {}},
                "dns": [{"address": "10.10.0.2", "type": "dns", "version": 4, "meta": {}}],
                "routes": [{"cidr": "192.168.0.0/16",
                            "gateway": {"address": "10.10.0.254", "type": "gateway",
                                        "version": 4, "meta": {}},
                            "interface": None, "meta": {}}],
                "ips": [{"address": address, "type": "fixed", "version": 4, "meta": {},
                         "floating_ips": []}],
                "meta": {"dhcp_server": "10.10.0.3"}}]}}
    # The port is created and bound in one request, with the service's credentials
    # (the user's right to the network checked first, as the user); a port made
    # just now has no floating IP to look up.
    seen = [s for s in cloud.gate.seen if s["path"].startswith("/v2.0/")]
    create = [s for s in seen if s["method"] == "POST" and s["path"] == "/v2.0/ports"][-1]
    assert create["token"] == "svc-token" and create["request_id"] == ctxt.global_id
    assert not [s for s in seen if s["method"] == "PUT" and vif["id"] in s["path"]]
    assert any(s["path"] == "/v2.0/networks/" + net["id"] and s["token"] == ctxt.auth_token
               for s in seen)
    assert not [s for s in seen if s["path"] == "/v2.0/floatingips" and vif["id"] in s["query"]]


def test_fixed_ip_port_is_created_as_the_user_then_bound(cloud: Cloud) -> None:
    proj = project()
    net, _ = cloud.network(proj, cidr="10.13.0.0/24")
    ctxt = cloud.user(proj)
    [vif] = ni.allocate_for_instance(cloud.conf, ctxt, instance(proj),
                                     [{"uuid": net["id"], "fixed_ip": "10.13.0.50"}], [], HOST)
    port = admin_port(cloud, vif["id"])
    assert (port["binding:host_id"], port["fixed_ips"][0]["ip_address"]) == (HOST, "10.13.0.50")
    seen = [s for s in cloud.gate.seen if s["path"].startswith("/v2.0/ports")]
    create = [s for s in seen if s["method"] == "POST"][-1]
    bind = [s for s in seen if s["method"] == "PUT" and vif["id"] in s["path"]][-1]
    assert create["token"] == ctxt.auth_token and bind["token"] == "svc-token"
    assert bind["request_id"] == ctxt.global_id


def test_port_is_created_as_the_user_when_the_service_may_not(
        cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = project()
    net, _ = cloud.network(proj, cidr="10.14.0.0/24")
    ctxt = cloud.user(proj)
    create = neutron.create_port
    tokens: list[bool] = []

    def refused_for_the_service(conf: Any, ctx: Any, body: Any, *, admin: bool = False) -> Any:
        tokens.append(admin)
        if admin:
            raise exception.NetworkForbidden(reason="not here")
        return create(conf, ctx, body, admin=admin)
    monkeypatch.setattr(neutron, "create_port", refused_for_the_service)
    [vif] = ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"uuid": net["id"]}],
                                     [], HOST)
    assert tokens == [True, False]
    port = admin_port(cloud, vif["id"])
    assert (port["binding:host_id"], port["project_id"]) == (HOST, proj)


def test_auto_none_and_ambiguous(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    inst = instance(proj)
    assert ni.validate_networks(cloud.conf, ctxt, "auto") == []
    assert ni.allocate_for_instance(cloud.conf, ctxt, inst, "auto", [], HOST) == []
    assert ni.allocate_for_instance(cloud.conf, ctxt, inst, "none", [], HOST) == []
    net, _ = cloud.network(proj, cidr="10.11.0.0/24")
    assert ni.validate_networks(cloud.conf, ctxt, None) == [{"uuid": net["id"]}]
    [vif] = ni.allocate_for_instance(cloud.conf, ctxt, inst, "auto", [], HOST)
    assert vif["network"]["id"] == net["id"]
    # Another network the project can use (a shared one) makes "auto" ambiguous.
    cloud.network("someone-else", cidr="10.12.0.0/24", shared=True, name="shared")
    with pytest.raises(exception.NetworkAmbiguous) as caught:
        ni.validate_networks(cloud.conf, ctxt, "auto")
    assert caught.value.code == 409
    assert caught.value.message == ("Multiple possible networks found, use a Network ID to "
                                    "be more specific.")
    with pytest.raises(exception.NetworkAmbiguous):
        ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [], [], HOST)
    ni.deallocate_for_instance(cloud.conf, ctxt, inst["uuid"], [vif])


def test_validate_networks_errors(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    net, _ = cloud.network(proj, cidr="10.13.0.0/24")
    missing = str(uuid.uuid4())
    with pytest.raises(exception.RequestedNetworkNotFound) as not_found:
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": missing}])
    assert not_found.value.code == 400
    assert not_found.value.message == "Network %s could not be found." % missing
    empty = cloud.call("POST", "/v2.0/networks", proj, {"network": {"name": "bare"}},
                       status=201)["network"]
    with pytest.raises(exception.NetworkRequiresSubnet) as no_subnet:
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": empty["id"]}])
    assert no_subnet.value.code == 400
    with pytest.raises(exception.InvalidFixedIp) as outside:
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": net["id"], "fixed_ip": "10.99.0.5"}])
    assert outside.value.code == 400
    with pytest.raises(exception.InvalidFixedIp):
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": net["id"], "fixed_ip": "nonsense"}])
    taken = cloud.call("POST", "/v2.0/ports", proj, {"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.13.0.20"}]}},
        status=201)["port"]
    with pytest.raises(exception.FixedIpAlreadyInUse) as in_use:
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": net["id"], "fixed_ip": "10.13.0.20"}])
    assert in_use.value.code == 409
    assert ni.validate_networks(cloud.conf, ctxt, [
        {"uuid": net["id"], "fixed_ip": "10.13.0.21"}, {"port": taken["id"]}]) == [
        {"uuid": net["id"], "fixed_ip": "10.13.0.21"},
        {"port": taken["id"], "uuid": net["id"]}]
    with pytest.raises(exception.PortInUse):
        ni.validate_networks(cloud.conf, ctxt, [{"port": taken["id"]}, {"port": taken["id"]}])
    cloud.call("PUT", "/v2.0/ports/" + taken["id"], proj,
               {"port": {"device_id": "another-server"}}, status=200)
    with pytest.raises(exception.PortInUse) as port_in_use:
        ni.validate_networks(cloud.conf, ctxt, [{"port": taken["id"]}])
    assert port_in_use.value.code == 409
    with pytest.raises(exception.RequestedPortNotFound) as no_port:
        ni.validate_networks(cloud.conf, ctxt, [{"port": str(uuid.uuid4())}])
    assert no_port.value.code == 400
    with pytest.raises(exception.NetworkBadRequest):
        ni.validate_networks(cloud.conf, ctxt, [{"fixed_ip": "10.13.0.5"}])
    assert ni.validate_networks(cloud.conf, ctxt, "none") == []


def test_external_network_is_forbidden_to_users(cloud: Cloud) -> None:
    ext = cloud.call("POST", "/v2.0/networks", "admin", {"network": {
        "name": "ext", "router:external": True}}, ADMIN_ROLES, 201)["network"]
    cloud.call("POST", "/v2.0/subnets", "admin", {"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": "172.30.0.0/24"}}, ADMIN_ROLES, 201)
    with pytest.raises(exception.ExternalNetworkAttachForbidden) as caught:
        ni.validate_networks(cloud.conf, cloud.user(project()), [{"uuid": ext["id"]}])
    assert caught.value.code == 403


def test_adopted_port_fixed_ip_and_security_groups(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    net, _ = cloud.network(proj, cidr="10.14.0.0/24", name="blue")
    web = cloud.call("POST", "/v2.0/security-groups", proj,
                     {"security_group": {"name": "web"}}, status=201)["security_group"]
    mine = cloud.call("POST", "/v2.0/ports", proj, {"port": {"network_id": net["id"]}},
                      status=201)["port"]
    inst = instance(proj)
    info = ni.allocate_for_instance(
        cloud.conf, ctxt, inst,
        [{"port": mine["id"]}, {"uuid": net["id"], "fixed_ip": "10.14.0.77"}],
        ["web", "default"], HOST)
    assert [v["id"] for v in info][0] == mine["id"]
    assert [v["preserve_on_delete"] for v in info] == [True, False]
    adopted, created = admin_port(cloud, mine["id"]), admin_port(cloud, info[1]["id"])
    assert (adopted["device_id"], adopted["device_owner"], adopted["binding:host_id"]) == (
        inst["uuid"], "compute:nova", HOST)
    assert created["fixed_ips"][0]["ip_address"] == "10.14.0.77"
    default = [g["id"] for g in neutron.list_security_groups(
        cloud.conf, ctxt, {"project_id": proj, "name": "default"})]
    assert set(created["security_groups"]) == {web["id"]} | set(default)
    # The adopted port keeps its own groups.
    assert adopted["security_groups"] == mine["security_groups"]
    # The addresses view: both ports on network "blue".
    assert ni.addresses(info) == {"blue": [
        {"version": 4, "addr": mine["fixed_ips"][0]["ip_address"],
         "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mine["mac_address"]},
        {"version": 4, "addr": "10.14.0.77", "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": created["mac_address"]}]}
    # A port in use by this instance cannot go to another.
    with pytest.raises(exception.PortInUse):
        ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"port": mine["id"]}],
                                 [], HOST)
    ni.deallocate_for_instance(cloud.conf, ctxt, inst["uuid"], info)
    released = admin_port(cloud, mine["id"])
    assert (released["device_id"], released["device_owner"], released["binding:host_id"]) \
        == ("", "", "")
    cloud.call("GET", "/v2.0/ports/" + info[1]["id"], proj, status=404)
    ni.deallocate_for_instance(cloud.conf, ctxt, inst["uuid"], info)  # again: nothing to do


def test_security_group_errors(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    net, _ = cloud.network(proj, cidr="10.15.0.0/24")
    with pytest.raises(exception.RequestedSecurityGroupNotFound) as missing:
        ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"uuid": net["id"]}],
                                 ["nope"], HOST)
    assert missing.value.code == 400
    for _ in range(2):
        cloud.call("POST", "/v2.0/security-groups", proj,
                   {"security_group": {"name": "twin"}}, status=201)
    with pytest.raises(exception.SecurityGroupNotUnique) as twins:
        ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"uuid": net["id"]}],
                                 ["twin"], HOST)
    assert twins.value.code == 409
    cloud.call("POST", "/v2.0/security-groups", proj, {"security_group": {"name": "ssh"}},
               status=201)
    open_net, _ = cloud.network(proj, cidr="10.16.0.0/24")
    cloud.call("PUT", "/v2.0/networks/" + open_net["id"], proj,
               {"network": {"port_security_enabled": False}}, status=200)
    with pytest.raises(exception.SecurityGroupCannotBeApplied):
        ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"uuid": open_net["id"]}],
                                 ["default", "ssh"], HOST)
    assert cloud.call("GET", "/v2.0/ports?network_id=" + net["id"], proj)["ports"] == []


def test_failure_rolls_back_created_and_adopted_ports(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    net, _ = cloud.network(proj, cidr="10.17.0.0/24")
    mine = cloud.call("POST", "/v2.0/ports", proj, {"port": {"network_id": net["id"]}},
                      status=201)["port"]
    cloud.call("POST", "/v2.0/ports", proj, {"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.17.0.9"}]}}, status=201)
    inst = instance(proj)
    with pytest.raises(exception.FixedIpAlreadyInUse) as caught:
        ni.allocate_for_instance(cloud.conf, ctxt, inst, [
            {"port": mine["id"]}, {"uuid": net["id"]},
            {"uuid": net["id"], "fixed_ip": "10.17.0.9"}], [], HOST)
    assert caught.value.code == 409
    assert neutron.list_ports(cloud.conf, ctxt, {"device_id": inst["uuid"]}, admin=True) == []
    released = admin_port(cloud, mine["id"])
    assert (released["device_id"], released["binding:host_id"]) == ("", "")
    assert len(cloud.call("GET", "/v2.0/ports?network_id=" + net["id"], proj)["ports"]) == 2


def test_refresh_with_floating_ip_and_addresses(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    ext = cloud.call("POST", "/v2.0/networks", "admin", {"network": {
        "name": "public", "router:external": True}}, ADMIN_ROLES, 201)["network"]
    cloud.call("POST", "/v2.0/subnets", "admin", {"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": "172.31.0.0/24"}}, ADMIN_ROLES, 201)
    net, sub = cloud.network(proj, cidr="10.18.0.0/24", name="green")
    router = cloud.call("POST", "/v2.0/routers", proj, {"router": {
        "external_gateway_info": {"network_id": ext["id"]}}}, status=201)["router"]
    cloud.call("PUT", "/v2.0/routers/%s/add_router_interface" % router["id"], proj,
               {"subnet_id": sub["id"]}, status=200)
    inst = instance(proj)
    info = ni.allocate_for_instance(cloud.conf, ctxt, inst, [{"uuid": net["id"]}], [], HOST)
    assert ni.get_instance_nw_info(cloud.conf, ctxt, inst["uuid"], info) == info
    fixed = info[0]["network"]["subnets"][0]["ips"][0]["address"]
    fip = cloud.call("POST", "/v2.0/floatingips", proj, {"floatingip": {
        "floating_network_id": ext["id"], "port_id": info[0]["id"]}},
        status=201)["floatingip"]
    # A second port appears (attached from outside): it comes last, not preserved.
    extra = cloud.call("POST", "/v2.0/ports", proj, {"port": {
        "network_id": net["id"], "device_id": inst["uuid"], "device_owner": "compute:nova"}},
        status=201)["port"]
    fresh = ni.get_instance_nw_info(cloud.conf, ctxt, inst["uuid"], info)
    assert [v["id"] for v in fresh] == [info[0]["id"], extra["id"]]
    assert [v["preserve_on_delete"] for v in fresh] == [False, False]
    assert fresh[0]["network"]["subnets"][0]["ips"][0]["floating_ips"] == [
        {"address": fip["floating_ip_address"], "type": "floating", "version": 4,
         "meta": {}}]
    mac = info[0]["address"]
    assert ni.addresses(fresh) == {"green": [
        {"version": 4, "addr": fixed, "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": mac},
        {"version": 4, "addr": extra["fixed_ips"][0]["ip_address"],
         "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": extra["mac_address"]},
        {"version": 4, "addr": fip["floating_ip_address"], "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": mac}]}
    # Without the cache: every port of the instance (oldest first; these two may
    # share a creation second).
    assert sorted(v["id"] for v in ni.get_instance_nw_info(cloud.conf, None, inst["uuid"])) \
        == sorted([info[0]["id"], extra["id"]])
    ni.deallocate_for_instance(cloud.conf, ctxt, inst["uuid"], fresh)
    assert ni.get_instance_nw_info(cloud.conf, ctxt, inst["uuid"]) == []
    # The floating IP outlives the port, disassociated.
    assert cloud.call("GET", "/v2.0/floatingips/" + fip["id"], proj,
                      status=200)["floatingip"]["port_id"] is None


def test_addresses_of_nothing() -> None:
    assert ni.addresses([]) == {}
    assert ni.addresses(None) == {}


def test_the_users_view_of_a_network_is_kept_a_few_seconds(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    bare = cloud.call("POST", "/v2.0/networks", proj, {"network": {"name": "bare"}},
                      status=201)["network"]
    with pytest.raises(exception.NetworkRequiresSubnet):
        ni.validate_networks(cloud.conf, ctxt, [{"uuid": bare["id"]}])
    cloud.call("POST", "/v2.0/subnets", proj, {"subnet": {
        "network_id": bare["id"], "ip_version": 4, "cidr": "10.15.0.0/24"}}, status=201)
    # Not kept without subnets: the subnet added just now counts at once.
    assert ni.validate_networks(cloud.conf, ctxt, [{"uuid": bare["id"]}]) == [
        {"uuid": bare["id"]}]
    del cloud.gate.seen[:]
    ni.validate_networks(cloud.conf, ctxt, [{"uuid": bare["id"]}])
    [vif] = ni.allocate_for_instance(cloud.conf, ctxt, instance(proj), [{"uuid": bare["id"]}],
                                     [], HOST)
    assert vif["network"]["label"] == "bare"
    assert not [s for s in cloud.gate.seen if s["path"] == "/v2.0/networks/" + bare["id"]]
    other = cloud.user(proj)  # another token asks for itself
    ni.validate_networks(cloud.conf, other, [{"uuid": bare["id"]}])
    assert [s["token"] for s in cloud.gate.seen
            if s["path"] == "/v2.0/networks/" + bare["id"]] == [other.auth_token]

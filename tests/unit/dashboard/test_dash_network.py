"""The networks panel: table, create network + subnet (and its rollback),
subnet validation before any API call, detail with subnets and ports, 404 for
another project's private network."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from openstack.compute.v2.server import Server
from openstack.network.v2.network import Network
from openstack.network.v2.port import Port
from openstack.network.v2.subnet import Subnet

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error

# openstacksdk warns about its own Resource constructor, used here for fakes.
pytestmark = pytest.mark.filterwarnings("ignore:The _compute_attributes method")


def net(nid: str, name: str, project: str = PROJECT_ID, **kw: Any) -> Network:
    attrs: dict[str, Any] = {"is_shared": False, "is_router_external": False, "status": "ACTIVE",
             "is_admin_state_up": True}
    attrs.update(kw)
    return Network(id=nid, name=name, project_id=project, **attrs)


def subnet(sid: str, network_id: str, cidr: str, name: str = "", **kw: Any) -> Subnet:
    return Subnet(id=sid, network_id=network_id, cidr=cidr, name=name, project_id=PROJECT_ID,
                  ip_version=6 if ":" in cidr else 4, is_dhcp_enabled=True, **kw)


def port(pid: str, network_id: str, ip: str, owner: str = "", device: str = "",
         project: str = PROJECT_ID, subnet_id: str = "s1") -> Port:
    return Port(id=pid, network_id=network_id, device_owner=owner, device_id=device,
                project_id=project, status="ACTIVE", is_admin_state_up=True, name="",
                fixed_ips=[{"subnet_id": subnet_id, "ip_address": ip}])


def row(body: str, rid: str) -> str:
    found = re.search(r'<tr id="row-%s".*?</tr>' % re.escape(rid), body, re.S)
    assert found, "no row %s" % rid
    return found.group(0)


BASE = {"name": "dash-net", "admin_state_up": "on", "create_subnet": "on",
        "subnet_name": "dash-sub", "cidr": "10.77.0.0/24", "ip_version": "4",
        "enable_dhcp": "on"}


def test_dash_network_table_one_list_call_per_kind(admin_client: Any,
                                                   conn: mock.MagicMock) -> None:
    conn.network.networks.return_value = [
        net("n1", "dash-net"), net("n2", "theirs", OTHER_PROJECT_ID),
        net("n3", "public", OTHER_PROJECT_ID, is_router_external=True),
        net("n4", "common", OTHER_PROJECT_ID, is_shared=True)]
    conn.network.subnets.return_value = [subnet("s1", "n1", "10.77.0.0/24", "dash-sub"),
                                         subnet("s2", "n1", "fd77::/64"),
                                         subnet("s9", "n2", "10.9.0.0/24")]
    body = admin_client.get("/project/networks/").content.decode()
    assert 'id="networks"' in body
    mine = row(body, "n1")
    assert "dash-sub 10.77.0.0/24, fd77::/64" in mine and 'href="/project/networks/n1/"' in mine
    assert "/project/networks/n1/edit/" in mine and "/project/networks/n1/delete/" in mine
    assert 'id="row-n2"' not in body            # another project's private network
    public = row(body, "n3")
    assert "Yes" in public and "/delete/" not in public
    assert "Yes" in row(body, "n4")
    conn.network.networks.assert_called_once_with()
    conn.network.subnets.assert_called_once_with()


def test_dash_network_create_with_subnet(client: Any, conn: mock.MagicMock) -> None:
    conn.network.create_network.return_value = net("n1", "dash-net")
    conn.network.create_subnet.return_value = subnet("s1", "n1", "10.77.0.0/24")
    data = dict(BASE, gateway_ip="10.77.0.1", allocation_pools="10.77.0.10,10.77.0.100",
                dns_nameservers="10.77.0.1\n9.9.9.9", host_routes="10.80.0.0/24,10.77.0.254")
    resp = client.post("/project/networks/create/", data)
    assert resp.status_code == 302 and resp["Location"] == "/project/networks/"
    conn.network.create_network.assert_called_once_with(name="dash-net", is_admin_state_up=True)
    conn.network.create_subnet.assert_called_once_with(
        network_id="n1", name="dash-sub", cidr="10.77.0.0/24", ip_version=4,
        is_dhcp_enabled=True, gateway_ip="10.77.0.1",
        allocation_pools=[{"start": "10.77.0.10", "end": "10.77.0.100"}],
        dns_nameservers=["10.77.0.1", "9.9.9.9"],
        host_routes=[{"destination": "10.80.0.0/24", "nexthop": "10.77.0.254"}])
    conn.network.delete_network.assert_not_called()


def test_dash_network_create_without_subnet_and_disabled_gateway(
        client: Any, conn: mock.MagicMock) -> None:
    conn.network.create_network.return_value = net("n1", "bare")
    resp = client.post("/project/networks/create/", {"name": "bare"})
    assert resp.status_code == 302
    conn.network.create_network.assert_called_once_with(name="bare", is_admin_state_up=False)
    conn.network.create_subnet.assert_not_called()
    conn.network.create_network.return_value = net("n2", "nogw")
    client.post("/project/networks/create/", dict(BASE, cidr="fd00:1::/64", ip_version="6",
                                                  no_gateway="on", gateway_ip="fd00:1::1"))
    kwargs = conn.network.create_subnet.call_args.kwargs
    assert kwargs["gateway_ip"] is None and kwargs["ip_version"] == 6


def test_dash_network_subnet_failure_deletes_the_network(client: Any,
                                                         conn: mock.MagicMock) -> None:
    conn.network.create_network.return_value = net("n1", "dash-net")
    conn.network.create_subnet.side_effect = http_error(400, "Duplicate hostroute")
    resp = client.post("/project/networks/create/", BASE)
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Duplicate hostroute (HTTP 400)" in body and 'id="panel-form"' in body
    conn.network.delete_network.assert_called_once_with("n1", ignore_missing=True)


@pytest.mark.parametrize("change,field,message", [
    ({"cidr": ""}, "cidr", "Enter the network address"),
    ({"cidr": "10.77.0.5/24"}, "cidr", "has host bits set: did you mean 10.77.0.0/24?"),
    ({"cidr": "10.77.0.0"}, "cidr", "with its prefix length"),
    ({"cidr": "10.77.0.0/33"}, "cidr", "is not a network address"),
    ({"ip_version": "6"}, "cidr", "is an IPv4 network, not IPv6"),
    ({"cidr": "224.0.0.0/24"}, "cidr", "multicast"),
    ({"cidr": "10.0.0.0/31"}, "cidr", "too small"),
    ({"gateway_ip": "10.78.0.1"}, "gateway_ip", "is not inside 10.77.0.0/24"),
    ({"gateway_ip": "10.77.0.0"}, "gateway_ip", "network&#x27;s own address"),
    ({"gateway_ip": "fd00::1"}, "gateway_ip", "is not an IPv4 address"),
    ({"allocation_pools": "10.77.0.10,10.78.0.5"}, "allocation_pools",
     "10.78.0.5 is not inside 10.77.0.0/24"),
    ({"allocation_pools": "10.77.0.50,10.77.0.10"}, "allocation_pools",
     "the start comes after the end"),
    ({"allocation_pools": "10.77.0.10"}, "allocation_pools", "write a pool as start,end"),
    ({"allocation_pools": "10.77.0.10,10.77.0.50\n10.77.0.40,10.77.0.60"},
     "allocation_pools", "overlap"),
    ({"allocation_pools": "10.77.0.1,10.77.0.50"}, "allocation_pools",
     "The gateway 10.77.0.1 is inside the pool"),
    ({"dns_nameservers": "8.8.8.8\nnot-an-ip"}, "dns_nameservers", "not-an-ip is not an IP"),
    ({"dns_nameservers": "8.8.8.8\n8.8.8.8"}, "dns_nameservers", "listed twice"),
    ({"host_routes": "10.80.0.0/24"}, "host_routes", "destination CIDR,next hop"),
    ({"ip_version": "5"}, "ip_version", "Select a valid choice"),
])
def test_dash_network_subnet_validated_before_any_api_call(
        client: Any, conn: mock.MagicMock, change: dict[str, str], field: str,
        message: str) -> None:
    resp = client.post("/project/networks/create/", dict(BASE, **change))
    assert resp.status_code == 400
    body = resp.content.decode()
    block = re.search(r'id="field-%s".*?</div>' % field, body, re.S)
    assert block and message in block.group(0), body[-3000:]
    conn.network.create_network.assert_not_called()
    conn.network.create_subnet.assert_not_called()


def test_dash_network_shared_only_for_admins(client: Any, admin_client: Any,
                                             conn: mock.MagicMock) -> None:
    assert 'id="id_shared"' not in client.get("/project/networks/create/").content.decode()
    conn.network.create_network.return_value = net("n1", "x")
    client.post("/project/networks/create/", {"name": "x", "shared": "on"})
    assert "is_shared" not in conn.network.create_network.call_args.kwargs
    assert 'id="id_shared"' in admin_client.get("/project/networks/create/").content.decode()
    admin_client.post("/project/networks/create/", {"name": "x", "shared": "on"})
    assert conn.network.create_network.call_args.kwargs["is_shared"] is True


def test_dash_network_of_another_project_is_404_even_for_admin(
        admin_client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_network.return_value = net("n2", "theirs", OTHER_PROJECT_ID)
    assert admin_client.get("/project/networks/n2/").status_code == 404
    assert admin_client.get("/project/networks/n2/edit/").status_code == 404
    assert admin_client.post("/project/networks/n2/delete/").status_code == 404
    assert admin_client.get("/project/networks/n2/subnets/create/").status_code == 404
    conn.network.delete_network.assert_not_called()
    conn.network.subnets.assert_not_called()


def test_dash_network_external_of_another_project_is_visible(
        client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_network.return_value = net("n3", "public", OTHER_PROJECT_ID,
                                                is_router_external=True)
    conn.network.subnets.return_value = []
    conn.network.ports.return_value = [port("p1", "n3", "172.24.4.9", project="x"),
                                       port("p2", "n3", "172.24.4.7", "network:floatingip")]
    body = client.get("/project/networks/n3/").content.decode()
    assert "(another project's)" in body
    assert "172.24.4.9" not in body and "172.24.4.7" in body
    assert "Create Subnet" not in body and "Create Port" not in body
    assert client.get("/project/networks/n3/ports/create/").status_code == 404


def test_dash_network_detail_subnets_and_ports(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_network.return_value = net("n1", "dash-net")
    conn.network.subnets.return_value = [subnet(
        "s1", "n1", "10.77.0.0/24", "dash-sub", gateway_ip="10.77.0.1",
        allocation_pools=[{"start": "10.77.0.2", "end": "10.77.0.254"}])]
    conn.network.ports.return_value = [
        port("p1", "n1", "10.77.0.2", "network:dhcp", "dhcp-1"),
        port("p2", "n1", "10.77.0.5", "compute:nova", "vm-1"),
        port("p3", "n1", "10.77.0.1", "network:router_interface", "r1"),
        port("p4", "n1", "10.77.0.9")]
    conn.compute.servers.return_value = [Server(id="vm-1", name="web")]
    conn.network.routers.return_value = [mock.Mock(id="r1")]
    conn.network.routers.return_value[0].name = "router1"
    body = client.get("/project/networks/n1/").content.decode()
    assert 'id="subnets"' in body and 'id="ports"' in body
    assert "10.77.0.2-10.77.0.254" in row(body, "s1")
    assert "/project/networks/n1/subnets/s1/edit/" in body
    assert "Instance web" in row(body, "p2") and 'href="/project/instances/vm-1/"' in body
    assert "Router router1 (interface)" in row(body, "p3")
    assert "DHCP service" in row(body, "p1")
    assert "/ports/p1/delete/" not in body and "/ports/p3/delete/" not in body
    assert "/ports/p2/delete/" in body and "/ports/p4/delete/" in body
    conn.compute.servers.assert_called_once_with()
    conn.network.subnets.assert_called_once_with(network_id="n1")
    conn.network.ports.assert_called_once_with(network_id="n1")


def test_dash_network_subnet_edit_keeps_its_cidr(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_subnet.return_value = subnet(
        "s1", "n1", "10.77.0.0/24", "dash-sub", gateway_ip="10.77.0.1",
        allocation_pools=[{"start": "10.77.0.2", "end": "10.77.0.254"}],
        dns_nameservers=["8.8.8.8"], host_routes=[])
    body = client.get("/project/networks/n1/subnets/s1/edit/").content.decode()
    assert re.search(r'id="id_cidr"[^>]*disabled|disabled[^>]*id="id_cidr"', body)
    assert "10.77.0.2,10.77.0.254" in body
    resp = client.post("/project/networks/n1/subnets/s1/edit/", {
        "subnet_name": "renamed", "cidr": "10.99.0.0/24", "gateway_ip": "10.77.0.1",
        "enable_dhcp": "on", "dns_nameservers": ""})
    assert resp.status_code == 302
    conn.network.update_subnet.assert_called_once_with(
        "s1", name="renamed", is_dhcp_enabled=True, gateway_ip="10.77.0.1",
        dns_nameservers=[], host_routes=[])
    # a subnet of another network is not reachable through this one
    assert client.get("/project/networks/n9/subnets/s1/edit/").status_code == 404


def test_dash_network_port_create_and_delete(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_network.return_value = net("n1", "dash-net")
    conn.network.subnets.return_value = [subnet("s1", "n1", "10.77.0.0/24", "dash-sub")]
    resp = client.post("/project/networks/n1/ports/create/",
                       {"name": "p", "subnet": "s1", "ip_address": "10.88.0.5"})
    assert resp.status_code == 400 and "is not inside 10.77.0.0/24" in resp.content.decode()
    conn.network.create_port.assert_not_called()
    conn.network.create_port.return_value = port("p9", "n1", "10.77.0.55")
    resp = client.post("/project/networks/n1/ports/create/",
                       {"name": "p", "ip_address": "10.77.0.55", "admin_state_up": "on"})
    assert resp.status_code == 302
    conn.network.create_port.assert_called_once_with(
        network_id="n1", name="p", is_admin_state_up=True,
        fixed_ips=[{"subnet_id": "s1", "ip_address": "10.77.0.55"}])
    conn.network.get_port.return_value = port("p1", "n1", "10.77.0.2", "network:dhcp", "d")
    client.post("/project/networks/n1/ports/p1/delete/")
    conn.network.delete_port.assert_not_called()
    conn.network.get_port.return_value = port("p9", "n1", "10.77.0.55")
    resp = client.post("/project/networks/n1/ports/p9/delete/")
    assert resp.status_code == 302
    conn.network.delete_port.assert_called_once_with("p9", ignore_missing=False)


def test_dash_network_delete_refusal_is_a_message(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_network.return_value = net("n1", "dash-net")
    conn.network.delete_network.side_effect = http_error(409, "Network n1 is in use")
    resp = client.post("/project/networks/n1/delete/", follow=True)
    assert "Network n1 is in use (HTTP 409)" in resp.content.decode()
    assert client.get("/project/networks/n1/delete/").status_code == 405

"""Routers (gateway, interfaces) and floating IPs (allocate, associate with the
instance prefill, disassociate, release)."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from openstack.compute.v2.server import Server
from openstack.network.v2.floating_ip import FloatingIP
from openstack.network.v2.router import Router

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error
from tests.unit.dashboard.test_dash_network import net, port, row, subnet

pytestmark = pytest.mark.filterwarnings("ignore:The _compute_attributes method")


def router(rid: str, name: str, gateway: str | None = None,
           project: str = PROJECT_ID) -> Router:
    info = {"network_id": gateway, "external_fixed_ips": [
        {"subnet_id": "ps", "ip_address": "172.24.4.3"}]} if gateway else None
    return Router(id=rid, name=name, project_id=project, status="ACTIVE",
                  is_admin_state_up=True, external_gateway_info=info)


def fip(fid: str, address: str, port_id: str | None = None, fixed: str | None = None,
        project: str = PROJECT_ID) -> FloatingIP:
    return FloatingIP(id=fid, floating_ip_address=address, port_id=port_id,
                      fixed_ip_address=fixed, floating_network_id="ext",
                      project_id=project, status="ACTIVE" if port_id else "DOWN")


def public() -> Any:
    return net("ext", "public", OTHER_PROJECT_ID, is_router_external=True)


def test_dash_network_routers_table(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.network.routers.return_value = [router("r1", "dash-router", "ext"),
                                         router("r2", "bare"),
                                         router("r9", "theirs", project=OTHER_PROJECT_ID)]
    conn.network.networks.return_value = [public()]
    body = admin_client.get("/project/routers/").content.decode()
    assert 'id="routers"' in body and 'id="row-r9"' not in body
    first = row(body, "r1")
    assert "public" in first and "Clear Gateway" in first and "Set Gateway" in first
    assert "Clear Gateway" not in row(body, "r2")
    conn.network.routers.assert_called_once_with(project_id=PROJECT_ID)
    conn.network.networks.assert_called_once_with(is_router_external=True)


def test_dash_network_router_create_and_gateway(client: Any, conn: mock.MagicMock) -> None:
    conn.network.networks.return_value = [public()]
    conn.network.create_router.return_value = router("r1", "dash-router", "ext")
    resp = client.post("/project/routers/create/", {"name": "dash-router",
                                                    "admin_state_up": "on",
                                                    "external_network": "ext"})
    assert resp.status_code == 302
    conn.network.create_router.assert_called_once_with(
        name="dash-router", is_admin_state_up=True,
        external_gateway_info={"network_id": "ext"})
    resp = client.post("/project/routers/create/", {"name": "x", "external_network": "nope"})
    assert resp.status_code == 400 and conn.network.create_router.call_count == 1
    conn.network.get_router.return_value = router("r1", "dash-router")
    assert client.post("/project/routers/r1/gateway/",
                       {"external_network": "ext"}).status_code == 302
    conn.network.update_router.assert_called_with("r1",
                                                  external_gateway_info={"network_id": "ext"})
    assert client.post("/project/routers/r1/gateway/clear/").status_code == 302
    conn.network.update_router.assert_called_with("r1", external_gateway_info={})


def test_dash_network_router_of_another_project_is_404(admin_client: Any,
                                                       conn: mock.MagicMock) -> None:
    conn.network.get_router.return_value = router("r9", "theirs", project=OTHER_PROJECT_ID)
    for path in ("/project/routers/r9/", "/project/routers/r9/gateway/",
                 "/project/routers/r9/interfaces/add/"):
        assert admin_client.get(path).status_code == 404
    assert admin_client.post("/project/routers/r9/delete/").status_code == 404
    conn.network.delete_router.assert_not_called()


def test_dash_network_router_detail_lists_interfaces(client: Any,
                                                     conn: mock.MagicMock) -> None:
    conn.network.get_router.return_value = router("r1", "dash-router", "ext")
    conn.network.ports.return_value = [
        port("p1", "n1", "10.77.0.1", "network:router_interface", "r1"),
        port("gw", "ext", "172.24.4.3", "network:router_gateway", "r1")]
    conn.network.subnets.return_value = [subnet("s1", "n1", "10.77.0.0/24", "dash-sub")]
    conn.network.networks.return_value = [net("n1", "dash-net"), public()]
    body = client.get("/project/routers/r1/").content.decode()
    assert 'id="interfaces"' in body and 'id="row-gw"' not in body
    iface = row(body, "p1")
    assert "dash-sub 10.77.0.0/24" in iface and "dash-net" in iface and "10.77.0.1" in iface
    assert "/project/routers/r1/interfaces/p1/remove/" in iface
    assert "public</a> (172.24.4.3)" in body
    conn.network.ports.assert_called_once_with(device_id="r1")


def test_dash_network_router_add_interface(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_router.return_value = router("r1", "dash-router", "ext")
    conn.network.networks.return_value = [net("n1", "dash-net"), net("n2", "other"), public()]
    conn.network.ports.return_value = [
        port("p1", "n2", "10.5.0.1", "network:router_interface", "r1", subnet_id="s2")]
    conn.network.subnets.return_value = [
        subnet("s1", "n1", "10.77.0.0/24", "dash-sub"),
        subnet("s2", "n2", "10.5.0.0/24"),       # attached already
        subnet("s3", "ext", "172.24.4.0/24")]    # on the external network
    body = client.get("/project/routers/r1/interfaces/add/").content.decode()
    assert 'value="s1"' in body and 'value="s2"' not in body and 'value="s3"' not in body
    resp = client.post("/project/routers/r1/interfaces/add/",
                       {"subnet": "s1", "ip_address": "10.78.0.1"})
    assert resp.status_code == 400 and "is not a host address of 10.77.0.0/24" in \
        resp.content.decode()
    assert client.post("/project/routers/r1/interfaces/add/",
                       {"subnet": "s1"}).status_code == 302
    conn.network.add_interface_to_router.assert_called_once_with("r1", subnet="s1")
    # with an address: a port first; when the router refuses it, the port goes again
    conn.network.create_port.return_value = port("np", "n1", "10.77.0.254")
    conn.network.add_interface_to_router.side_effect = http_error(400, "overlaps")
    resp = client.post("/project/routers/r1/interfaces/add/",
                       {"subnet": "s1", "ip_address": "10.77.0.254"})
    assert resp.status_code == 400 and "overlaps (HTTP 400)" in resp.content.decode()
    conn.network.create_port.assert_called_once_with(
        network_id="n1", fixed_ips=[{"subnet_id": "s1", "ip_address": "10.77.0.254"}])
    conn.network.add_interface_to_router.assert_called_with("r1", port="np")
    conn.network.delete_port.assert_called_once_with("np", ignore_missing=True)


def test_dash_network_router_remove_interface(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_router.return_value = router("r1", "dash-router")
    conn.network.get_port.return_value = port("p1", "n1", "10.77.0.1",
                                              "network:router_interface", "r1")
    resp = client.post("/project/routers/r1/interfaces/p1/remove/")
    assert resp.status_code == 302 and resp["Location"] == "/project/routers/r1/"
    conn.network.remove_interface_from_router.assert_called_once_with("r1", port="p1")
    conn.network.get_port.return_value = port("p2", "n1", "10.77.0.5", "compute:nova", "vm")
    assert client.post("/project/routers/r1/interfaces/p2/remove/").status_code == 404


def _fip_cloud(conn: mock.MagicMock) -> None:
    conn.network.ips.return_value = [fip("f2", "172.24.4.20", "p1", "10.0.0.5"),
                                     fip("f1", "172.24.4.4"),
                                     fip("f9", "172.24.4.9", project=OTHER_PROJECT_ID)]
    conn.network.networks.return_value = [public()]
    conn.network.ports.return_value = [port("p1", "n1", "10.0.0.5", "compute:nova", "vm1"),
                                       port("p2", "n1", "10.0.0.6", "compute:nova", "vm2")]
    conn.compute.servers.return_value = [Server(id="vm1", name="web"),
                                         Server(id="vm2", name="db")]


def test_dash_network_floating_ips_table(admin_client: Any, conn: mock.MagicMock) -> None:
    _fip_cloud(conn)
    body = admin_client.get("/project/floating_ips/").content.decode()
    assert 'id="floating_ips"' in body and 'id="row-f9"' not in body
    assert body.index('id="row-f1"') < body.index('id="row-f2"')
    mapped = row(body, "f2")
    assert "10.0.0.5" in mapped and ">web<" in mapped and "public" in mapped
    assert "Disassociate" in mapped and "ip_id=f2" not in mapped
    assert "/project/floating_ips/associate/?ip_id=f1" in row(body, "f1")
    for kind in (conn.network.ips, conn.network.ports, conn.compute.servers,
                 conn.network.networks):
        assert kind.call_count == 1


def test_dash_network_floating_ip_allocate(client: Any, conn: mock.MagicMock) -> None:
    conn.network.networks.return_value = [public()]
    conn.network.create_ip.return_value = fip("f1", "172.24.4.4")
    resp = client.post("/project/floating_ips/allocate/", {"pool": "ext"})
    assert resp.status_code == 302
    conn.network.create_ip.assert_called_once_with(floating_network_id="ext")


def test_dash_network_associate_prefilled_from_instance(client: Any,
                                                        conn: mock.MagicMock) -> None:
    _fip_cloud(conn)
    conn.compute.get_server.return_value = Server(id="vm2", name="db", project_id=PROJECT_ID)
    conn.network.ports.return_value = [port("p2", "n1", "10.0.0.6", "compute:nova", "vm2")]
    path = "/project/floating_ips/associate/?instance_id=vm2&ip_id=f1"
    body = client.get(path).content.decode()
    assert '<option value="ip:f1" selected>172.24.4.4</option>' in body
    assert "Allocate a new one from pool public" in body
    assert '<option value="p2/10.0.0.6">db: 10.0.0.6</option>' in body
    assert "f2" not in re.findall(r'<option value="ip:(\w+)"', body)
    conn.network.ports.assert_called_once_with(device_id="vm2")
    conn.network.update_ip.return_value = fip("f1", "172.24.4.4", "p2", "10.0.0.6")
    resp = client.post(path, {"ip": "ip:f1", "port": "p2/10.0.0.6"})
    assert resp.status_code == 302 and resp["Location"] == "/project/instances/"
    conn.network.update_ip.assert_called_once_with("f1", port_id="p2",
                                                   fixed_ip_address="10.0.0.6")
    conn.compute.get_server.return_value = Server(id="vm7", name="x",
                                                  project_id=OTHER_PROJECT_ID)
    assert client.get("/project/floating_ips/associate/?instance_id=vm7").status_code == 404


def test_dash_network_associate_new_ip_refused_is_released(client: Any,
                                                           conn: mock.MagicMock) -> None:
    _fip_cloud(conn)
    body = client.get("/project/floating_ips/associate/").content.decode()
    assert "web: 10.0.0.5" not in body            # mapped already
    assert '<option value="p2/10.0.0.6">db: 10.0.0.6</option>' in body
    conn.network.create_ip.return_value = fip("fn", "172.24.4.30")
    conn.network.update_ip.side_effect = http_error(
        404, "External network ext is not reachable from subnet s1")
    resp = client.post("/project/floating_ips/associate/",
                       {"ip": "pool:ext", "port": "p2/10.0.0.6"})
    assert resp.status_code == 400
    assert "is not reachable from subnet s1 (HTTP 404)" in resp.content.decode()
    conn.network.create_ip.assert_called_once_with(floating_network_id="ext")
    conn.network.delete_ip.assert_called_once_with("fn", ignore_missing=True)


def test_dash_network_associate_validates_choices(client: Any, conn: mock.MagicMock) -> None:
    _fip_cloud(conn)
    resp = client.post("/project/floating_ips/associate/", {"ip": "ip:f2",
                                                            "port": "p1/10.0.0.5"})
    assert resp.status_code == 400
    conn.network.update_ip.assert_not_called()
    conn.network.create_ip.assert_not_called()


def test_dash_network_disassociate_and_release(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_ip.return_value = fip("f2", "172.24.4.20", "p1", "10.0.0.5")
    assert client.post("/project/floating_ips/f2/disassociate/").status_code == 302
    conn.network.update_ip.assert_called_once_with("f2", port_id=None)
    assert client.post("/project/floating_ips/f2/release/").status_code == 302
    conn.network.delete_ip.assert_called_once_with("f2", ignore_missing=False)
    conn.network.get_ip.return_value = fip("f9", "172.24.4.9", project=OTHER_PROJECT_ID)
    assert client.post("/project/floating_ips/f9/release/").status_code == 404
    assert conn.network.delete_ip.call_count == 1

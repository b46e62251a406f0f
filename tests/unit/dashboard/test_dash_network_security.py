"""Security groups and their rules (validated before the API), and the
network topology picture."""
from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from openstack.compute.v2.server import Server
from openstack.network.v2.security_group import SecurityGroup

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID, http_error
from tests.unit.dashboard.test_dash_network import net, port, row, subnet
from tests.unit.dashboard.test_dash_network_routing import public, router

pytestmark = pytest.mark.filterwarnings("ignore:The _compute_attributes method")


def group(gid: str, name: str, rules: list[dict[str, Any]] | None = None,
          project: str = PROJECT_ID) -> SecurityGroup:
    return SecurityGroup(id=gid, name=name, description="about " + name, project_id=project,
                         security_group_rules=rules or [])


def rule(rid: str, **kw: Any) -> dict[str, Any]:
    out = {"id": rid, "direction": "ingress", "ethertype": "IPv4", "protocol": None,
           "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
           "remote_group_id": None, "description": ""}
    out.update(kw)
    return out


def test_dash_network_security_groups_table(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.network.security_groups.return_value = [
        group("g2", "web", [rule("r1")]), group("g1", "default", [rule("r2"), rule("r3")]),
        group("g9", "theirs", project=OTHER_PROJECT_ID)]
    body = admin_client.get("/project/security_groups/").content.decode()
    assert 'id="security_groups"' in body and 'id="row-g9"' not in body
    assert body.index('id="row-g1"') < body.index('id="row-g2"')   # default first
    assert "/project/security_groups/g1/delete/" not in body
    assert "/project/security_groups/g2/delete/" in row(body, "g2")
    assert 'href="/project/security_groups/g2/"' in row(body, "g2")
    conn.network.security_groups.assert_called_once_with(project_id=PROJECT_ID)


def test_dash_network_security_group_create_and_edit(client: Any,
                                                     conn: mock.MagicMock) -> None:
    resp = client.post("/project/security_groups/create/", {"name": "default"})
    assert resp.status_code == 400
    conn.network.create_security_group.assert_not_called()
    conn.network.create_security_group.return_value = group("g2", "web")
    resp = client.post("/project/security_groups/create/", {"name": "web",
                                                            "description": "d"})
    assert resp["Location"] == "/project/security_groups/g2/"
    conn.network.get_security_group.return_value = group("g1", "default")
    resp = client.post("/project/security_groups/g1/edit/", {"name": "renamed",
                                                             "description": "new"})
    assert resp.status_code == 302
    conn.network.update_security_group.assert_called_once_with("g1", description="new")
    assert client.post("/project/security_groups/g1/delete/").status_code == 404
    conn.network.delete_security_group.assert_not_called()


def test_dash_network_security_group_detail_rules(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_security_group.return_value = group("g2", "web", [
        rule("r1", protocol="tcp", port_range_min=22, port_range_max=22,
             remote_ip_prefix="0.0.0.0/0"),
        rule("r2", protocol="tcp", port_range_min=8000, port_range_max=8080,
             remote_group_id="g1"),
        rule("r3", protocol="icmp", port_range_min=8),
        rule("r4", direction="egress", ethertype="IPv6")])
    conn.network.security_groups.return_value = [group("g1", "default"), group("g2", "web")]
    body = client.get("/project/security_groups/g2/").content.decode()
    assert 'id="rules"' in body
    assert ">22<" in row(body, "r1") and "0.0.0.0/0" in row(body, "r1")
    assert "8000 - 8080" in row(body, "r2") and "default (group)" in row(body, "r2")
    assert "type 8" in row(body, "r3") and "ICMP" in row(body, "r3")
    assert "Any (::/0)" in row(body, "r4") and "Egress" in row(body, "r4")
    assert "/project/security_groups/g2/rules/r1/delete/" in body
    conn.network.get_security_group.return_value = group("g9", "x", project=OTHER_PROJECT_ID)
    assert client.get("/project/security_groups/g9/").status_code == 404


RULE = {"rule": "custom_tcp", "direction": "ingress", "port_or_range": "port", "port": "22",
        "remote": "cidr", "cidr": "0.0.0.0/0", "ether_type": "IPv4"}


@pytest.mark.parametrize("change,field,message", [
    ({"port": ""}, "port", "Enter a port"),
    ({"port": "70000"}, "port", "less than or equal to 65535"),
    ({"port": "0"}, "port", "greater than or equal to 1"),
    ({"port_or_range": "range", "from_port": "90", "to_port": "80"}, "to_port",
     "The range ends before it starts (90 &gt; 80)"),
    ({"port_or_range": "range", "from_port": "90"}, "to_port", "Enter both ends"),
    ({"cidr": "10.0.0.1/8"}, "cidr", "has host bits set"),
    ({"cidr": "nowhere"}, "cidr", "prefix length"),
    ({"cidr": ""}, "cidr", "Enter the remote CIDR"),
    ({"remote": "sg"}, "security_group", "Choose the remote security group"),
    ({"rule": "custom_icmp", "icmp_type": "300"}, "icmp_type", "less than or equal to 255"),
    ({"rule": "custom_icmp", "icmp_code": "0"}, "icmp_code", "A code needs an ICMP type"),
])
def test_dash_network_rule_validated_before_any_api_call(
        client: Any, conn: mock.MagicMock, change: dict[str, str], field: str,
        message: str) -> None:
    conn.network.get_security_group.return_value = group("g2", "web")
    conn.network.security_groups.return_value = [group("g2", "web")]
    resp = client.post("/project/security_groups/g2/rules/add/", dict(RULE, **change))
    assert resp.status_code == 400
    block = re.search(r'id="field-%s".*?</div>' % field, resp.content.decode(), re.S)
    assert block and message in block.group(0)
    conn.network.create_security_group_rule.assert_not_called()


@pytest.mark.parametrize("change,expected", [
    ({"rule": "ssh"}, {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                       "remote_ip_prefix": "0.0.0.0/0", "ether_type": "IPv4"}),
    ({"port_or_range": "range", "from_port": "8000", "to_port": "8080", "cidr": "fd00::/8"},
     {"protocol": "tcp", "port_range_min": 8000, "port_range_max": 8080,
      "remote_ip_prefix": "fd00::/8", "ether_type": "IPv6"}),
    ({"rule": "all_icmp", "cidr": "::/0"}, {"protocol": "ipv6-icmp",
                                            "remote_ip_prefix": "::/0", "ether_type": "IPv6"}),
    ({"rule": "custom_icmp", "icmp_type": "8", "remote": "sg", "security_group": "g2",
      "direction": "egress"},
     {"protocol": "icmp", "port_range_min": 8, "remote_group_id": "g2", "ether_type": "IPv4",
      "direction": "egress"}),
    ({"rule": "any", "description": "all"}, {"protocol": None, "description": "all",
                                             "remote_ip_prefix": "0.0.0.0/0",
                                             "ether_type": "IPv4"}),
])
def test_dash_network_rule_body(client: Any, conn: mock.MagicMock, change: dict[str, str],
                                expected: dict[str, Any]) -> None:
    conn.network.get_security_group.return_value = group("g2", "web")
    conn.network.security_groups.return_value = [group("g2", "web")]
    resp = client.post("/project/security_groups/g2/rules/add/", dict(RULE, **change))
    assert resp.status_code == 302 and resp["Location"] == "/project/security_groups/g2/"
    body = dict({"direction": "ingress", "security_group_id": "g2"}, **expected)
    conn.network.create_security_group_rule.assert_called_once_with(**body)


def test_dash_network_rule_refusal_and_delete(client: Any, conn: mock.MagicMock) -> None:
    conn.network.get_security_group.return_value = group("g2", "web", [rule("r1")])
    conn.network.security_groups.return_value = [group("g2", "web")]
    conn.network.create_security_group_rule.side_effect = http_error(
        409, "Security group rule already exists.")
    resp = client.post("/project/security_groups/g2/rules/add/", RULE)
    assert resp.status_code == 400 and "already exists. (HTTP 409)" in resp.content.decode()
    assert client.post("/project/security_groups/g2/rules/r1/delete/").status_code == 302
    conn.network.delete_security_group_rule.assert_called_once_with("r1", ignore_missing=False)
    assert client.post("/project/security_groups/g2/rules/r7/delete/").status_code == 404


def test_dash_network_topology_svg(admin_client: Any, conn: mock.MagicMock) -> None:
    conn.network.networks.return_value = [
        public(), net("n1", "dash-net"), net("n2", "private"),
        net("n9", "theirs", OTHER_PROJECT_ID)]
    conn.network.subnets.return_value = [subnet("s1", "n1", "10.77.0.0/24", "dash-sub"),
                                         subnet("s2", "n2", "10.0.0.0/24")]
    conn.network.routers.return_value = [router("r1", "dash-router", "ext"),
                                         router("r9", "theirs", project=OTHER_PROJECT_ID)]
    conn.network.ports.return_value = [
        port("p1", "n1", "10.77.0.1", "network:router_interface", "r1"),
        port("p2", "n1", "10.77.0.5", "compute:nova", "vm1"),
        port("p3", "n2", "10.0.0.7", "compute:nova", "vm1"),
        port("p4", "n2", "10.0.0.2", "network:dhcp", "dhcp")]
    conn.compute.servers.return_value = [Server(id="vm1", name="web", status="ACTIVE"),
                                         Server(id="vm2", name="idle", status="SHUTOFF")]
    resp = admin_client.get("/project/topology/")
    assert resp.status_code == 200
    body = resp.content.decode()
    svg = body[body.index("<svg"):body.index("</svg>")]
    for href in ('href="/project/networks/ext/"', 'href="/project/networks/n1/"',
                 'href="/project/routers/r1/"', 'href="/project/instances/vm1/"',
                 'href="/project/instances/vm2/"'):
        assert href in svg
    assert "theirs" not in svg and "dhcp" not in svg
    assert "dash-sub 10.77.0.0/24" in svg and "10.0.0.0/24" in svg
    assert svg.count('class="topo-edge gateway"') == 1
    assert svg.count('class="topo-edge interface"') == 1
    assert svg.count('class="topo-edge port"') == 2
    assert ">172.24.4.3<" in svg and ">10.77.0.1<" in svg and ">10.0.0.7<" in svg
    x = {}
    for key in ("external-ext", "router-r1", "network-n1", "server-vm1"):
        found = re.search(r'id="topo-%s".*?<rect x="(\d+)"' % key, svg, re.S)
        assert found, key
        x[key] = int(found.group(1))
    assert x["external-ext"] < x["router-r1"] < x["network-n1"] < x["server-vm1"]
    text = body[body.index('id="topology-text"'):]
    assert "gateway on public (172.24.4.3); interface on dash-net (10.77.0.1)" in text
    assert "dash-net 10.77.0.5; private 10.0.0.7" in text
    for kind in (conn.network.networks, conn.network.subnets, conn.network.routers,
                 conn.network.ports, conn.compute.servers):
        assert kind.call_count == 1


def test_dash_network_topology_survives_compute_failure(client: Any,
                                                        conn: mock.MagicMock) -> None:
    conn.network.networks.return_value = [net("n1", "dash-net")]
    conn.network.subnets.return_value = []
    conn.network.routers.return_value = []
    conn.network.ports.return_value = []
    conn.compute.servers.side_effect = http_error(503, "compute is down")
    resp = client.get("/project/topology/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Instances are not shown: compute is down (HTTP 503)" in body
    assert 'id="topo-network-n1"' in body

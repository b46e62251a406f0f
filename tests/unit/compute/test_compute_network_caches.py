"""A build's network_info from short caches: the subnets of its ports and the
DHCP ports of its networks are asked for once a few seconds per node (with the
service's credentials), a network without a DHCP port is asked again each time,
and a refresh (get_instance_nw_info) always asks."""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from compute import network_info as ni
from compute.clients import network as neutron

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compute_clients_network import (  # noqa: E402
    ADMIN_ROLES, Cloud, project, running_cloud)

HOST = "node-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from running_cloud(tmp_path_factory)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    neutron.clear_network_cache()
    yield
    neutron.clear_network_cache()


def _seen(cloud: Cloud, path: str, query: str = "") -> list[dict[str, Any]]:
    return [s for s in cloud.gate.seen if s["path"] == path and query in s["query"]]


def _allocate(cloud: Cloud, proj: str, net_id: str) -> dict[str, Any]:
    [vif] = ni.allocate_for_instance(cloud.conf, cloud.user(proj),
                                     {"uuid": str(uuid.uuid4()), "project_id": proj},
                                     [{"uuid": net_id}], [], HOST)
    return vif


def _dhcp_port(cloud: Cloud, proj: str, net_id: str, address: str) -> None:
    cloud.call("POST", "/v2.0/ports", "admin", {"port": {
        "network_id": net_id, "project_id": proj, "device_owner": "network:dhcp",
        "device_id": "dhcp-" + net_id, "fixed_ips": [{"ip_address": address}]}},
        ADMIN_ROLES, 201)


def test_builds_ask_for_subnets_and_dhcp_ports_once(cloud: Cloud) -> None:
    proj = project()
    net, sub = cloud.network(proj, cidr="10.20.0.0/24", dns_nameservers=["10.20.0.2"])
    _dhcp_port(cloud, proj, net["id"], "10.20.0.3")
    del cloud.gate.seen[:]
    first = _allocate(cloud, proj, net["id"])
    second = _allocate(cloud, proj, net["id"])
    for vif in (first, second):
        [subnet] = vif["network"]["subnets"]
        assert subnet["cidr"] == "10.20.0.0/24"
        assert subnet["dns"][0]["address"] == "10.20.0.2"
        assert subnet["meta"] == {"dhcp_server": "10.20.0.3"}
    subnet_lists = _seen(cloud, "/v2.0/subnets", sub["id"])
    assert len(subnet_lists) == 1 and subnet_lists[0]["token"] == "svc-token"
    assert len(_seen(cloud, "/v2.0/ports", "network%3Adhcp")) == 1


def test_a_network_without_a_dhcp_port_is_asked_again(cloud: Cloud) -> None:
    proj = project()
    net, _sub = cloud.network(proj, cidr="10.21.0.0/24")
    del cloud.gate.seen[:]
    assert _allocate(cloud, proj, net["id"])["network"]["subnets"][0]["meta"] == {}
    # The DHCP agent adds its port: the next build sees it at once.
    _dhcp_port(cloud, proj, net["id"], "10.21.0.250")
    vif = _allocate(cloud, proj, net["id"])
    assert vif["network"]["subnets"][0]["meta"] == {"dhcp_server": "10.21.0.250"}
    assert len(_seen(cloud, "/v2.0/ports", "network%3Adhcp")) == 2


def test_a_refresh_asks_the_network_service(cloud: Cloud) -> None:
    proj = project()
    net, sub = cloud.network(proj, cidr="10.22.0.0/24")
    vif = _allocate(cloud, proj, net["id"])
    cloud.call("PUT", "/v2.0/subnets/" + sub["id"], proj,
               {"subnet": {"dns_nameservers": ["10.22.0.9"]}}, status=200)
    del cloud.gate.seen[:]
    [refreshed] = ni.get_instance_nw_info(cloud.conf, cloud.user(proj),
                                          _device(cloud, vif["id"]), [vif])
    assert refreshed["network"]["subnets"][0]["dns"][0]["address"] == "10.22.0.9"
    assert len(_seen(cloud, "/v2.0/subnets", sub["id"])) == 1


def _device(cloud: Cloud, port_id: str) -> str:
    port = cloud.call("GET", "/v2.0/ports/" + port_id, "admin", roles=ADMIN_ROLES,
                      status=200)["port"]
    return str(port["device_id"])


def test_cached_subnets_are_copies_and_unknown_ids_are_left_out(cloud: Cloud) -> None:
    proj = project()
    _net, sub = cloud.network(proj, cidr="10.23.0.0/24")
    ctxt = cloud.user(proj)
    [found] = neutron.get_subnets(cloud.conf, ctxt, [sub["id"], str(uuid.uuid4())],
                                   cached=True)
    found["dns_nameservers"].append("192.0.2.1")
    found["cidr"] = "changed"
    del cloud.gate.seen[:]
    [again] = neutron.get_subnets(cloud.conf, ctxt, [sub["id"]], cached=True)
    assert again["cidr"] == "10.23.0.0/24" and again["dns_nameservers"] == []
    assert cloud.gate.seen == []

"""IPAM through the plugin on an SQLite file: allocation, exhaustion, release,
16 concurrent allocators on one subnet, MAC generation."""
from __future__ import annotations

import concurrent.futures
import os
import re
from typing import Any, Iterator

import pytest

from common import context
from network import exception
from network.plugin import ipam
from network.plugin import ports as ports_mod
from tests.fixtures import network as fx


@pytest.fixture()
def plugin(tmp_path: Any) -> Iterator[Any]:
    conf = fx.make_conf(str(tmp_path))
    plugin = fx.make_plugin(conf)
    yield plugin
    plugin.db.dispose()


def _ctxt(project: str = "p1") -> Any:
    ctxt = context.RequestContext(project_id=project, roles=["member"], overwrite=False)
    ctxt.is_admin = False
    return ctxt


def _net_and_subnet(plugin: Any, ctxt: Any, cidr: str,
                    pools: list[dict[str, str]] | None = None) -> tuple[str, str]:
    net = plugin.networks.create(ctxt, {
        "project_id": ctxt.project_id, "name": "n", "admin_state_up": True, "shared": False,
        "router:external": False, "port_security_enabled": True, "mtu": 0})
    sub = plugin.subnets.create(ctxt, {
        "project_id": ctxt.project_id, "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": cidr, "enable_dhcp": True, "allocation_pools": pools})
    return net["id"], sub["id"]


def _port(plugin: Any, ctxt: Any, net_id: str, **extra: Any) -> dict[str, Any]:
    body = {"project_id": ctxt.project_id, "network_id": net_id, "name": "",
            "admin_state_up": True}
    body.update(extra)
    return dict(plugin.ports.create(ctxt, body))


def test_allocation_order_exhaustion_and_release(plugin: Any) -> None:
    ctxt = _ctxt()
    net, sub = _net_and_subnet(plugin, ctxt, "10.0.0.0/29")
    ips = [_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] for _ in range(5)]
    assert ips == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(exception.IpAddressGenerationFailure) as err:
        _port(plugin, ctxt, net)
    assert err.value.code == 409
    victim = [p for p in plugin.ports.get_all(ctxt)
              if p["fixed_ips"][0]["ip_address"] == "10.0.0.4"][0]
    plugin.ports.delete(ctxt, victim["id"])
    assert _port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] == "10.0.0.4"
    with pytest.raises(exception.IpAddressInUse):
        _port(plugin, ctxt, net, fixed_ips=[{"subnet_id": sub, "ip_address": "10.0.0.2"}])


def test_concurrent_allocation_never_duplicates(plugin: Any) -> None:
    ctxt = _ctxt()
    net, _sub = _net_and_subnet(plugin, ctxt, "10.1.0.0/24")

    def worker(_n: int) -> list[str]:
        return [_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] for _ in range(8)]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = [ip for chunk in pool.map(worker, range(16)) for ip in chunk]
    assert len(results) == 128
    assert len(set(results)) == 128
    stored = [p["fixed_ips"][0]["ip_address"] for p in plugin.ports.get_all(ctxt)]
    assert sorted(stored) == sorted(results)
    macs = [p["mac_address"] for p in plugin.ports.get_all(ctxt)]
    assert len(set(macs)) == len(macs)


def test_concurrent_exhaustion_fails_cleanly(plugin: Any) -> None:
    ctxt = _ctxt()
    net, _sub = _net_and_subnet(plugin, ctxt, "10.2.0.0/28")  # 13 addresses

    def worker(_n: int) -> str:
        try:
            return str(_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"])
        except exception.IpAddressGenerationFailure:
            return "full"

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(worker, range(20)))
    got = [r for r in results if r != "full"]
    assert len(got) == 13 and len(set(got)) == 13
    assert results.count("full") == 7


def test_generate_mac() -> None:
    macs = {ports_mod.generate_mac("fa:16:3e:00:00:00") for _ in range(200)}
    assert all(re.match(r"^fa:16:3e(:[0-9a-f]{2}){3}$", m) for m in macs)
    assert len(macs) > 190
    assert ports_mod.generate_mac("fa:16:3e:4f:00:00").startswith("fa:16:3e:4f:")


def test_default_and_validated_pools() -> None:
    assert ipam.default_pools("10.0.0.0/24", "10.0.0.1") == [
        {"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert ipam.default_pools("10.0.0.0/24", "10.0.0.100") == [
        {"start": "10.0.0.1", "end": "10.0.0.99"}, {"start": "10.0.0.101", "end": "10.0.0.254"}]
    assert ipam.default_pools("2001:db8::/126", None) == [
        {"start": "2001:db8::1", "end": "2001:db8::3"}]
    with pytest.raises(exception.InvalidAllocationPool):
        ipam.validate_pools("10.0.0.0/24", None, [{"start": "10.0.0.0", "end": "10.0.0.5"}])
    with pytest.raises(exception.OverlappingAllocationPools):
        ipam.validate_pools("10.0.0.0/24", None, [{"start": "10.0.0.2", "end": "10.0.0.5"},
                                                 {"start": "10.0.0.5", "end": "10.0.0.9"}])
    with pytest.raises(exception.GatewayConflictWithAllocationPools):
        ipam.validate_pools("10.0.0.0/24", "10.0.0.3",
                            [{"start": "10.0.0.2", "end": "10.0.0.5"}])


def test_sqlite_file_is_used(plugin: Any) -> None:
    assert os.path.exists(plugin.db.engine.url.database)

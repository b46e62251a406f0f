"""IPAM through the plugin on an SQLite file: allocation, exhaustion, release,
16 concurrent allocators on one subnet, MAC generation."""
from __future__ import annotations

import concurrent.futures
import os
import re
import threading
import time
from typing import Any

import pytest

from network import exception
from network.plugin import ipam
from network.plugin import ports as ports_mod
from tests.unit.network.network_plugin_helpers import create_port, member_ctxt, net_and_subnet


def test_allocation_order_exhaustion_and_release(plugin: Any) -> None:
    ctxt = member_ctxt()
    net, sub = net_and_subnet(plugin, ctxt, "10.0.0.0/29")
    ips = [create_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] for _ in range(5)]
    assert ips == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(exception.IpAddressGenerationFailure) as err:
        create_port(plugin, ctxt, net)
    assert err.value.code == 409
    victim = [p for p in plugin.ports.get_all(ctxt)
              if p["fixed_ips"][0]["ip_address"] == "10.0.0.4"][0]
    plugin.ports.delete(ctxt, victim["id"])
    assert create_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] == "10.0.0.4"
    with pytest.raises(exception.IpAddressInUse):
        create_port(plugin, ctxt, net, fixed_ips=[{"subnet_id": sub, "ip_address": "10.0.0.2"}])


def test_concurrent_allocation_never_duplicates(plugin: Any) -> None:
    ctxt = member_ctxt()
    net, _sub = net_and_subnet(plugin, ctxt, "10.1.0.0/24")

    def worker(_n: int) -> list[str]:
        return [create_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] for _ in range(8)]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = [ip for chunk in pool.map(worker, range(16)) for ip in chunk]
    assert len(results) == 128
    assert len(set(results)) == 128
    stored = [p["fixed_ips"][0]["ip_address"] for p in plugin.ports.get_all(ctxt)]
    assert sorted(stored) == sorted(results)
    macs = [p["mac_address"] for p in plugin.ports.get_all(ctxt)]
    assert len(set(macs)) == len(macs)


def test_concurrent_exhaustion_fails_cleanly(plugin: Any) -> None:
    ctxt = member_ctxt()
    net, _sub = net_and_subnet(plugin, ctxt, "10.2.0.0/28")  # 13 addresses

    def worker(_n: int) -> str:
        try:
            return str(create_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"])
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


def test_in_flight_hold_is_one_step() -> None:
    """Requests choosing at once (before the write lock) never get the same address,
    and an address is free again once its holder's transaction ended."""
    flight = ipam._InFlight()
    ips = ["10.5.0.2", "10.5.0.3"]
    got: list[str | None] = []
    done = threading.Event()

    def choose() -> None:
        got.append(flight.hold_one("sub", ips, lambda free: free[0]))
        done.wait(5)
        flight.release_mine()

    threads = [threading.Thread(target=choose) for _ in range(3)]
    for thread in threads:
        thread.start()
    while len(got) < 3:
        time.sleep(0.01)
    assert sorted(got, key=str) == ["10.5.0.2", "10.5.0.3", None]
    assert flight.hold_one("sub", ips, lambda free: free[0]) is None
    done.set()
    for thread in threads:
        thread.join()
    assert flight.hold_one("sub", ips, lambda free: free[0]) == "10.5.0.2"

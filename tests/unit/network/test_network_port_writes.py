"""Port create, update and delete hold SQLite's write lock for a few prebuilt
statements only: what the statements under the lock are (an event listener on
the engine records them), that nothing writes outside it, and that what was read
before the lock is checked again by the write (retries, 404, 409, quotas)."""
from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from typing import Any, Iterator

import pytest
from sqlalchemy import event

from network import exception
from network.plugin import ports as ports_mod
from tests.fixtures import network as fx
from tests.unit.network.network_plugin_helpers import create_port, member_ctxt, net_and_subnet


class Statements:
    """SQL statements the plugin's engine runs, split by whether this thread was in a
    ``db.writer()`` block (which holds the SQLite write lock)."""

    def __init__(self, db: Any) -> None:
        self.locked: list[str] = []
        self.unlocked: list[str] = []
        self.recording = False
        self._inside = threading.local()
        writer = db.writer

        @contextlib.contextmanager
        def counted_writer() -> Iterator[Any]:
            with writer() as s:
                self._inside.depth = getattr(self._inside, "depth", 0) + 1
                try:
                    yield s
                finally:
                    self._inside.depth -= 1

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if self.recording:
                words = " ".join(statement.split()[:3])
                inside = getattr(self._inside, "depth", 0) > 0
                (self.locked if inside else self.unlocked).append(words)

        db.writer = counted_writer
        event.listen(db.engine, "before_cursor_execute", record)

    @contextlib.contextmanager
    def record(self) -> Iterator["Statements"]:
        self.locked.clear()
        self.unlocked.clear()
        self.recording = True
        try:
            yield self
        finally:
            self.recording = False


def test_create_holds_the_lock_for_the_quota_count_and_inserts(plugin: Any) -> None:
    sql = Statements(plugin.db)
    ctxt = member_ctxt()
    net, sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    create_port(plugin, ctxt, net)  # the project's default group exists from here on
    with sql.record():
        port = create_port(plugin, ctxt, net, device_owner="compute:nova", device_id="vm-1",
                     **{"binding:host_id": "node-1"})
    assert sql.locked == ["SELECT count(*) AS", "INSERT INTO ports",
                          "INSERT INTO ipallocations", "INSERT INTO securitygroupportbindings",
                          "INSERT INTO port_bindings"]
    # Everything else was a read, before the lock: network, subnets, quota, address.
    assert sql.unlocked and all(s.startswith("SELECT") for s in sql.unlocked), sql.unlocked
    assert len(sql.unlocked) == 4
    assert port["fixed_ips"] == [{"subnet_id": sub, "ip_address": "10.0.0.3"}]
    assert port["binding:host_id"] == "node-1" and port["binding:vif_type"] == "bridge"
    assert plugin.ports.get(ctxt, port["id"]) == port


def test_update_and_delete_hold_the_lock_for_their_writes(plugin: Any) -> None:
    sql = Statements(plugin.db)
    ctxt = member_ctxt()
    net, _sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    port = create_port(plugin, ctxt, net, device_owner="compute:nova", device_id="vm-1")
    with sql.record():
        bound = plugin.ports.update(ctxt, port["id"], {"binding:host_id": "node-1"})
    assert sql.locked == ["UPDATE ports SET", "INSERT INTO port_bindings"]
    assert all(s.startswith("SELECT") for s in sql.unlocked), sql.unlocked
    assert bound["binding:host_id"] == "node-1" and bound["revision_number"] == 1
    assert plugin.ports.get(ctxt, port["id"]) == bound
    with sql.record():
        moved = plugin.ports.update(ctxt, port["id"], {"binding:host_id": "node-2",
                                                       "name": "moved"})
    assert sql.locked == ["UPDATE ports SET", "UPDATE port_bindings SET"]
    assert plugin.ports.get(ctxt, port["id"]) == moved
    assert moved["name"] == "moved" and moved["revision_number"] == 2
    with sql.record():
        plugin.ports.delete(ctxt, port["id"])
    assert sql.locked == ["UPDATE floatingips SET", "DELETE FROM tags",
                          "DELETE FROM ports"]
    # The database cascaded to the port's rows.
    with plugin.db.reader() as s:
        for table in ("ipallocations", "port_bindings", "securitygroupportbindings"):
            assert s.connection().exec_driver_sql(
                "SELECT count(*) FROM %s WHERE port_id = ?" % table,
                (port["id"],)).scalar() == 0
    with pytest.raises(exception.PortNotFound):
        plugin.ports.delete(ctxt, port["id"])


def test_update_writes_only_what_changed(plugin: Any) -> None:
    ctxt = member_ctxt()
    net, sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    group = plugin.security_groups.create(ctxt, {"project_id": "p1", "name": "web",
                                                 "stateful": True})
    port = create_port(plugin, ctxt, net, allowed_address_pairs=[{"ip_address": "10.9.0.1"}],
                 extra_dhcp_opts=[{"opt_name": "mtu", "opt_value": "1400"}])
    updated = plugin.ports.update(ctxt, port["id"], {
        "security_groups": [group["id"]],
        "fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.50"},
                      {"subnet_id": sub, "ip_address": "10.0.0.2"}],
        "allowed_address_pairs": [{"ip_address": "10.9.0.2"}, {"ip_address": "10.9.0.1"}],
        "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1300"},
                            {"opt_name": "tftp-server", "opt_value": "10.0.0.9"}]})
    assert updated["security_groups"] == [group["id"]]
    assert [f["ip_address"] for f in updated["fixed_ips"]] == ["10.0.0.2", "10.0.0.50"]
    assert [p["ip_address"] for p in updated["allowed_address_pairs"]] == [
        "10.9.0.2", "10.9.0.1"]
    assert sorted((o["opt_name"], o["opt_value"]) for o in updated["extra_dhcp_opts"]) == [
        ("mtu", "1300"), ("tftp-server", "10.0.0.9")]
    shown = plugin.ports.get(ctxt, port["id"])
    for key in ("security_groups", "fixed_ips", "revision_number", "updated_at"):
        assert shown[key] == updated[key], key
    assert sorted(shown["allowed_address_pairs"], key=str) == sorted(
        updated["allowed_address_pairs"], key=str)
    removed = plugin.ports.update(ctxt, port["id"], {
        "fixed_ips": [{"subnet_id": sub, "ip_address": "10.0.0.50"}],
        "allowed_address_pairs": [], "extra_dhcp_opts": [{"opt_name": "mtu",
                                                          "opt_value": None}]})
    assert plugin.ports.get(ctxt, port["id"]) == removed
    assert removed["allowed_address_pairs"] == [] and removed["extra_dhcp_opts"] == [
        {"opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4}]
    # The address given up is free again.
    assert create_port(plugin, ctxt, net)["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_update_retries_when_the_port_changed_after_the_read(plugin: Any,
                                                             monkeypatch: Any) -> None:
    ctxt = member_ctxt()
    net, _sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    port = create_port(plugin, ctxt, net)
    change = plugin.ports._change
    calls: list[str] = []

    def racing_change(s: Any, c: Any, row: Any, body: dict[str, Any], attempt: int) -> None:
        calls.append(body.get("description", "inner"))
        if len(calls) == 1:  # another request commits between this one's read and write
            plugin.ports.update(ctxt, port["id"], {"name": "renamed"})
        change(s, c, row, body, attempt)

    monkeypatch.setattr(plugin.ports, "_change", racing_change)
    updated = plugin.ports.update(ctxt, port["id"], {"description": "outer"})
    assert calls == ["outer", "inner", "outer"]
    assert updated["name"] == "renamed" and updated["description"] == "outer"
    assert updated["revision_number"] == 2
    assert plugin.ports.get(ctxt, port["id"]) == updated


def test_update_that_loses_every_attempt_is_a_conflict(tmp_path: Any,
                                                       monkeypatch: Any) -> None:
    conf = fx.make_conf(str(tmp_path), DEFAULT={"ipam_retries": 2})
    plugin = fx.make_plugin(conf)
    try:
        ctxt = member_ctxt()
        net, _sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
        port = create_port(plugin, ctxt, net)
        change = plugin.ports._change

        def always_racing(s: Any, c: Any, row: Any, body: dict[str, Any],
                          attempt: int) -> None:
            with plugin.db.writer() as w:
                w.connection().exec_driver_sql(
                    "UPDATE ports SET revision_number = revision_number + 1 WHERE id = ?",
                    (port["id"],))
            change(s, c, row, body, attempt)

        monkeypatch.setattr(plugin.ports, "_change", always_racing)
        with pytest.raises(exception.ResourceChanged) as err:
            plugin.ports.update(ctxt, port["id"], {"name": "x"})
        assert err.value.code == 409
        assert plugin.ports.get(ctxt, port["id"])["name"] == ""
    finally:
        plugin.db.dispose()


def test_create_retries_when_the_network_went_away_after_the_read(
        plugin: Any, monkeypatch: Any) -> None:
    ctxt = member_ctxt()
    net, _sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    build = plugin.ports._build

    def racing_build(*args: Any) -> Any:
        row = build(*args)
        plugin.networks.delete(ctxt, net)  # committed before the port's insert
        return row

    monkeypatch.setattr(plugin.ports, "_build", racing_build)
    with pytest.raises(exception.NetworkNotFound):
        create_port(plugin, ctxt, net)


def test_create_checks_addresses_macs_and_groups_again_under_the_lock(
        plugin: Any, monkeypatch: Any) -> None:
    ctxt = member_ctxt()
    net, sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    first = create_port(plugin, ctxt, net)
    taken = first["fixed_ips"][0]["ip_address"]
    allocate = ports_mod.ipam.allocate
    racing = {"ip": True}

    def stale_allocate(s: Any, network: Any, requested: Any, mac: str, attempt: int,
                       **kwargs: Any) -> Any:
        if racing["ip"]:  # as if the read ran before the other port committed
            racing["ip"] = False
            return [{"subnet_id": sub, "ip_address": taken}]
        return allocate(s, network, requested, mac, attempt, **kwargs)

    monkeypatch.setattr(ports_mod.ipam, "allocate", stale_allocate)
    second = create_port(plugin, ctxt, net)
    assert second["fixed_ips"][0]["ip_address"] not in (taken,)
    monkeypatch.setattr(ports_mod.ipam, "allocate", allocate)
    with pytest.raises(exception.MacAddressInUse):
        create_port(plugin, ctxt, net, mac_address=first["mac_address"])
    with pytest.raises(exception.SecurityGroupNotFound):
        create_port(plugin, ctxt, net, security_groups=["0a2c5d6e-0000-4000-8000-000000000000"])


def test_quota_holds_under_concurrent_creates(plugin: Any) -> None:
    ctxt = member_ctxt("p2")
    net, _sub = net_and_subnet(plugin, ctxt, "10.3.0.0/24")
    plugin.quotas.update("p2", {"port": 5})

    def worker(_n: int) -> str:
        try:
            return str(create_port(plugin, ctxt, net)["id"])
        except exception.OverQuota:
            return "over"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(12)))
    assert results.count("over") == 7
    assert len(plugin.ports.get_all(ctxt)) == 5


def test_router_interface_port_is_not_deleted_as_acreate_port(plugin: Any) -> None:
    ctxt = member_ctxt()
    net, sub = net_and_subnet(plugin, ctxt, "10.0.0.0/24")
    router = plugin.routers.create(ctxt, {"project_id": "p1", "name": "r",
                                          "admin_state_up": True})
    info = plugin.routers.add_interface(ctxt, router["id"], {"subnet_id": sub})
    with pytest.raises(exception.PortInUse):
        plugin.ports.delete(ctxt, info["port_id"])
    assert plugin.ports.get(ctxt, info["port_id"])["device_owner"] == \
        "network:router_interface"

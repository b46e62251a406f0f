"""The services table: registration and heartbeats, capacity reports, liveness,
the admin's enable/disable; and the daemons' shared runner (blockstorage/cmd/daemon.py)
serving a manager over the in-memory bus while its heartbeats land in the table."""
from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg

from common import context, rpc
from common.db import engine as db_engine
from common.db import migration
from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage.cmd import daemon
from blockstorage.cmd import manage
from blockstorage.db import models
from blockstorage.db import services as services_db

WAIT = 10.0  # upper bound for waits on other threads; never an assertion on speed
VOLUME = rpcapi.VOLUME_BINARY


@pytest.fixture
def db(tmp_path: Any) -> Iterator[db_engine.Database]:
    url = "sqlite:///" + os.path.join(str(tmp_path), "bs.sqlite")
    migration.sync(manage.MIGRATIONS, url)
    database = db_engine.Database(db_engine.create_engine(url))
    try:
        yield database
    finally:
        database.dispose()


def test_first_heartbeat_registers_then_counts(db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    first = store.heartbeat(VOLUME, "node1@file", topic=rpcapi.VOLUME_TOPIC,
                            availability_zone="az1")
    assert (first["binary"], first["host"], first["topic"], first["availability_zone"]) == (
        VOLUME, "node1@file", rpcapi.VOLUME_TOPIC, "az1")
    assert (first["disabled"], first["frozen"], first["report_count"]) == (False, False, 1)
    assert first["replication_status"] == "disabled"
    second = store.heartbeat(VOLUME, "node1@file")
    assert second["id"] == first["id"] and second["report_count"] == 2
    assert second["availability_zone"] == "az1"  # kept when not given
    assert second["updated_at"] >= first["updated_at"]
    assert store.get(first["id"]) == second
    assert store.get(first["uuid"]) == second


def test_capabilities_report(db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    with pytest.raises(exception.HostBinaryNotFound):
        store.update_capabilities(VOLUME, "node1@file", {"free_capacity_gb": 1})
    store.register(VOLUME, "node1@file")
    caps = {"total_capacity_gb": 100, "free_capacity_gb": 60.5,
            "volume_backend_name": "file", "storage_protocol": "file"}
    stored = store.update_capabilities(VOLUME, "node1@file", caps)
    assert stored["capabilities"] == caps
    assert store.get_by_host("node1@file", VOLUME)["capabilities"] == caps


def test_filters(db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    store.register(rpcapi.SCHEDULER_BINARY, "ctl")
    store.register(VOLUME, "node1@file", availability_zone="az1")
    store.register(VOLUME, "node1@lvm", availability_zone="az2")
    store.register(VOLUME, "node10@file")
    assert [s["host"] for s in store.get_all(binary=VOLUME)] == [
        "node1@file", "node1@lvm", "node10@file"]
    assert [s["host"] for s in store.get_all(host="node1")] == ["node1@file", "node1@lvm"]
    assert [s["host"] for s in store.get_all(host="node1@lvm")] == ["node1@lvm"]
    assert [s["host"] for s in store.get_all(availability_zone="az1")] == ["node1@file"]
    store.set_disabled("node1@file", VOLUME, True, "maintenance")
    assert [s["host"] for s in store.get_all(binary=VOLUME, disabled=True)] == ["node1@file"]


def test_disable_enable_and_update(db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    svc = store.register(VOLUME, "node1@file")
    disabled = store.set_disabled("node1@file", VOLUME, True, "maintenance")
    assert (disabled["disabled"], disabled["disabled_reason"]) == (True, "maintenance")
    assert disabled["updated_at"] == svc["updated_at"]  # not a heartbeat
    enabled = store.set_disabled("node1@file", VOLUME, False, "ignored")
    assert (enabled["disabled"], enabled["disabled_reason"]) == (False, None)
    with pytest.raises(exception.HostBinaryNotFound) as err:
        store.set_disabled("nowhere", VOLUME, True)
    assert err.value.code == 404
    assert store.update(svc["id"], {"frozen": True})["frozen"] is True
    with pytest.raises(ValueError):
        store.update(svc["id"], {"report_count": 0})
    with pytest.raises(exception.ServiceNotFound):
        store.update(999, {"frozen": False})
    store.delete(svc["id"])
    assert store.get_all() == []


def test_is_up_uses_the_last_heartbeat() -> None:
    now = datetime.datetime(2026, 1, 1, 12, 0, 0)
    recent = {"updated_at": "2026-01-01T11:59:10.000000", "created_at": None}
    old = {"updated_at": "2026-01-01T11:58:00.000000"}
    assert services_db.is_up(recent, 60, now)
    assert not services_db.is_up(old, 60, now)
    assert services_db.is_up({"updated_at": None,
                              "created_at": "2026-01-01T11:59:30.000000"}, 60, now)
    assert not services_db.is_up({"updated_at": None, "created_at": None}, 60, now)


def test_list_up_skips_dead_and_disabled(db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    store.register(VOLUME, "alive@file")
    store.register(VOLUME, "off@file")
    store.set_disabled("off@file", VOLUME, True)
    store.register(VOLUME, "dead@file")
    with db.writer() as session:
        row = session.query(models.Service).filter_by(host="dead@file").one()
        row.updated_at = datetime.datetime(2000, 1, 1)
    assert [s["host"] for s in store.list_up(VOLUME, 60)] == ["alive@file"]
    assert [s["host"] for s in store.list_up(VOLUME, 60, include_disabled=True)] == [
        "alive@file", "off@file"]
    store.update_capabilities(VOLUME, "alive@file", {"free_capacity_gb": 5.5})
    (alive,) = store.list_up(VOLUME, 60)
    assert alive == store.get_by_host("alive@file", VOLUME)
    assert alive["capabilities"] == {"free_capacity_gb": 5.5}
    assert store.list_up("stratus-blockstorage-backup", 60) == []


class Manager:
    """A volume manager stand-in: records its casts."""

    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.event = threading.Event()

    def delete_volume(self, ctxt: Any, volume_id: str, cascade: bool = False) -> None:
        self.deleted.append(volume_id)
        self.event.set()


@pytest.fixture
def conf() -> Iterator[cfg.ConfigOpts]:
    config = cfg.ConfigOpts()
    bs_conf.register_opts(config)
    config([])
    config.set_override("transport_url", "kombu+memory:////")
    config.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    config.set_override("driver", ["noop"], group="oslo_messaging_notifications")
    config.set_override("report_interval", 0.05)
    config.set_override("host", "node1")
    config.set_override("storage_availability_zone", "az9")
    rpc.init(config, exmods=rpcapi.EXMODS)
    try:
        yield config
    finally:
        rpc.cleanup()


def test_daemon_serves_and_beats(conf: cfg.ConfigOpts, db: db_engine.Database) -> None:
    store = services_db.ServiceStore(db)
    manager = Manager()
    svc = daemon.build(conf, db, manager, rpcapi.VOLUME_TOPIC, VOLUME, host="node1@file")
    # registered before serving: the scheduler sees the backend at once
    [row] = store.get_all(binary=VOLUME)
    assert (row["host"], row["availability_zone"], row["topic"]) == (
        "node1@file", "az9", rpcapi.VOLUME_TOPIC)
    svc.start()
    try:
        rpcapi.VolumeAPI(timeout=WAIT).delete_volume(
            context.RequestContext(user_id="u", project_id="p"), "node1@file#pool", "v1")
        assert manager.event.wait(WAIT)
        assert manager.deleted == ["v1"]
        deadline = time.monotonic() + WAIT
        while store.get_by_host("node1@file", VOLUME)["report_count"] < 3:
            assert time.monotonic() < deadline, "no heartbeats recorded"
            time.sleep(0.02)
    finally:
        svc.stop()
    assert services_db.is_up(store.get_by_host("node1@file", VOLUME),
                             conf.service_down_time)


def test_daemon_defaults_to_the_configured_host(conf: cfg.ConfigOpts,
                                                db: db_engine.Database) -> None:
    svc = daemon.build(conf, db, Manager(), rpcapi.SCHEDULER_TOPIC, rpcapi.SCHEDULER_BINARY)
    assert svc.host == "node1"
    assert services_db.ServiceStore(db).get_by_host(
        "node1", rpcapi.SCHEDULER_BINARY)["report_count"] == 1

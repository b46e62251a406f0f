"""migrate_server: resize and cold migration scheduling, the migration row, the
no-host path, and the destination's claim seen by later boots."""
from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from compute import exception
from compute import states
from compute.conductor import manager as conductor_manager
from compute.conductor import migrate
from compute.db import instances as instances_db
from compute.db import models
from compute.scheduler import manager as scheduler_manager
from tests.fixtures import compute_daemons as fx


class Env:
    def __init__(self, tmp_path: Any) -> None:
        self.conf, self.db = fx.make_db(str(tmp_path))
        self.scheduler = fx.InProcessScheduler(
            scheduler_manager.SchedulerManager(self.conf, self.db))
        self.compute = fx.FakeCompute()
        self.conductor = conductor_manager.ConductorManager(
            self.conf, self.db, scheduler=self.scheduler, compute=self.compute)
        self.store = instances_db.InstanceStore(self.db)

    def server(self, host: str = "h1", flavor: dict[str, Any] | None = None,
               request_id: str | None = None) -> str:
        inst = fx.add_instance(self.db, flavor, host=host, vm_state=states.ACTIVE,
                               task_state=None, request_id=request_id)
        return inst

    def migrations(self, instance_uuid: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(sa.select(models.Migration).where(
                models.Migration.instance_uuid == instance_uuid)
                .order_by(models.Migration.id))
            return [migrate.migration_dict(r) for r in rows]

    def move(self, inst: str, flavor: dict[str, Any] | None, host: str | None = None,
             ctxt: Any = None) -> None:
        self.store.update(inst, {"task_state": states.RESIZE_PREP})  # as the API does
        self.conductor.migrate_server(ctxt or fx.ctxt(), inst, flavor, host)


@pytest.fixture
def env(tmp_path: Any) -> Any:
    environment = Env(tmp_path)
    yield environment
    environment.db.dispose()


def test_resize_records_the_migration_and_casts_prep_resize(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=1024)
    fx.add_host(env.db, "h2")
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    env.move(inst, fx.SMALL, ctxt=ctxt)
    [(method, host, kwargs)] = env.compute.casts
    assert (method, host, kwargs["node"]) == ("prep_resize", "h2", "h2")
    assert kwargs["flavor"] == fx.SMALL and kwargs["limits"]["memory_mb"] == 4096.0
    [migration] = env.migrations(inst)
    assert kwargs["migration_uuid"] == migration["uuid"]
    assert {k: migration[k] for k in ("migration_type", "status", "source_compute",
                                      "source_node", "dest_compute", "dest_node",
                                      "old_flavor_id", "new_flavor_id")} == {
        "migration_type": "resize", "status": "pre-migrating", "source_compute": "h1",
        "source_node": "h1", "dest_compute": "h2", "dest_node": "h2",
        "old_flavor_id": "1", "new_flavor_id": "2"}
    row = env.store.get(inst)
    assert (row["host"], row["vm_state"], row["task_state"]) == ("h1", states.ACTIVE,
                                                                 states.RESIZE_PREP)
    assert row["old_flavor"] == fx.TINY and row["new_flavor"] == fx.SMALL
    action = env.store.get_action(inst, ctxt.request_id)
    assert [(e["event"], e["result"]) for e in action["events"]] == [
        ("conductor_migrate_server", "Success")]


def test_resize_may_stay_on_its_host(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=8192)
    fx.add_host(env.db, "h2", memory_mb=1024)
    inst = env.server()
    env.move(inst, fx.SMALL)
    assert env.compute.casts[-1][1] == "h1"


def test_resize_to_the_same_host_can_be_forbidden(env: Env) -> None:
    env.conf.set_override("allow_resize_to_same_host", False, group="compute")
    fx.add_host(env.db, "h1", memory_mb=8192)
    fx.add_host(env.db, "h2", memory_mb=4096)
    inst = env.server()
    env.move(inst, fx.SMALL)
    assert env.compute.casts[-1][1] == "h2"


def test_cold_migration_leaves_its_host(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=8192)
    fx.add_host(env.db, "h2", memory_mb=1024)
    inst = env.server()
    env.move(inst, None)
    method, host, kwargs = env.compute.casts[-1]
    assert (method, host, kwargs["flavor"]) == ("prep_resize", "h2", fx.TINY)
    [migration] = env.migrations(inst)
    assert migration["migration_type"] == "migration"
    assert migration["old_flavor_id"] == migration["new_flavor_id"] == "1"


def test_cold_migration_to_a_named_host(env: Env) -> None:
    for host in ("h1", "h2", "h3"):
        fx.add_host(env.db, host, memory_mb=8192 if host == "h2" else 4096)
    inst = env.server()
    env.move(inst, None, host="h3")
    assert env.compute.casts[-1][1] == "h3"


def test_no_host_keeps_the_server_and_records_a_fault(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=1024)
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    env.move(inst, dict(fx.SMALL, memory_mb=65536), ctxt=ctxt)
    assert env.compute.casts == []
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"], row["host"]) == (states.ACTIVE, None, "h1")
    assert row["new_flavor"] is None and row["old_flavor"] is None
    fault = env.store.latest_faults([inst])[inst]
    assert fault["code"] == 500 and fault["message"].startswith("No valid host was found.")
    assert "RamFilter removed 1" in fault["message"]
    [migration] = env.migrations(inst)
    assert migration["status"] == "error" and migration["dest_compute"] is None
    action = env.store.get_action(inst, ctxt.request_id)
    assert action["message"] == "Error"
    assert action["events"][-1]["result"] == "Error"


def test_unknown_target_host_is_no_valid_host(env: Env) -> None:
    fx.add_host(env.db, "h1")
    inst = env.server()
    env.move(inst, None, host="nowhere")
    assert env.store.get(inst)["task_state"] is None
    assert "0 hosts known" in env.store.latest_faults([inst])[inst]["message"]


def test_the_destination_claim_is_seen_by_the_next_boot(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=512)
    fx.add_host(env.db, "h2", memory_mb=2048)
    inst = env.server()
    env.move(inst, fx.SMALL)  # 2048 MiB now promised on h2
    assert env.compute.casts[-1][1] == "h2"
    boot = fx.add_instance(env.db)
    with pytest.raises(exception.NoValidHost, match="RamFilter removed 2"):
        env.scheduler.select_destinations(fx.ctxt(), fx.spec(), [boot])


def test_a_deleted_or_busy_server_is_not_moved(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    gone = env.server()
    env.store.destroy(gone)
    env.conductor.migrate_server(fx.ctxt(), gone, fx.SMALL, None)
    busy = env.server()
    env.store.update(busy, {"task_state": states.DELETING})
    env.conductor.migrate_server(fx.ctxt(), busy, fx.SMALL, None)
    assert env.compute.casts == []
    assert [m["status"] for m in env.migrations(busy)] == ["error"]
    assert env.store.get(busy)["task_state"] == states.DELETING


def test_migration_store_creates_then_updates(env: Env) -> None:
    store = migrate.MigrationStore(env.db)
    with pytest.raises(ValueError):
        store.update("new", {"status": "migrating"})
    with pytest.raises(exception.MigrationNotFound):
        store.get("new")
    created = store.update("new", {"instance_uuid": "i1", "migration_type": "resize",
                                   "status": "pre-migrating", "source_compute": "h1"})
    assert created["uuid"] == "new" and created["status"] == "pre-migrating"
    updated = store.update("new", {"status": "finished", "dest_compute": "h2"})
    assert (updated["status"], updated["source_compute"], updated["dest_compute"]) == (
        "finished", "h1", "h2")
    with pytest.raises(ValueError):
        store.update("new", {"id": 5})

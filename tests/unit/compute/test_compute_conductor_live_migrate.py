"""The conductor's live migration (destination checks, both nodes' checks, the
cast to the source, the rollback of every failed check) and evacuation
(scheduling away from the failed host, no host = ERROR)."""
from __future__ import annotations

from typing import Any

import oslo_messaging
import pytest
import sqlalchemy as sa

from common import exception as common_exception
from compute import exception
from compute import migration_exception as mig_exception
from compute import states
from compute.conductor import manager as conductor_manager
from compute.conductor import migrate
from compute.db import instances as instances_db
from compute.db import models
from compute.scheduler import manager as scheduler_manager
from compute.virt import exception as virt_exception
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

    def server(self, host: str = "h1", request_id: str | None = None,
               vm_state: str = states.ACTIVE) -> str:
        return fx.add_instance(self.db, host=host, vm_state=vm_state, task_state=None,
                               request_id=request_id)

    def migrations(self, instance_uuid: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(sa.select(models.Migration).where(
                models.Migration.instance_uuid == instance_uuid)
                .order_by(models.Migration.id))
            return [migrate.migration_dict(r) for r in rows]

    def live(self, inst: str, host: str | None = None, ctxt: Any = None,
             block_migration: bool | None = None) -> None:
        self.store.update(inst, {"task_state": states.MIGRATING})  # as the API does
        fx.call(self.conductor.live_migrate_instance, ctxt or fx.ctxt(), inst, host,
                block_migration, None)

    def methods(self) -> list[tuple[str, str]]:
        return [(method, host) for method, host, _kwargs in self.compute.casts]


@pytest.fixture
def env(tmp_path: Any) -> Any:
    environment = Env(tmp_path)
    yield environment
    environment.db.dispose()


def test_live_migration_checks_both_ends_then_casts_to_the_source(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=8192)
    fx.add_host(env.db, "h2")
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    env.live(inst, ctxt=ctxt, block_migration=False)
    assert env.methods() == [("check_can_live_migrate_destination", "h2"),
                             ("check_can_live_migrate_source", "h1"),
                             ("live_migration", "h1")]
    dest_check = env.compute.casts[0][2]
    assert dest_check["block_migration"] is False
    assert dest_check["limits"]["memory_mb"] == 4096.0
    cast = env.compute.casts[-1][2]
    [migration] = env.migrations(inst)
    assert cast["migration_uuid"] == migration["uuid"] and cast["dest"] == "h2"
    assert cast["migrate_data"]["dest_host"] == "h2"
    assert {k: migration[k] for k in ("migration_type", "status", "source_compute",
                                      "dest_compute", "dest_node")} == {
        "migration_type": "live-migration", "status": "queued", "source_compute": "h1",
        "dest_compute": "h2", "dest_node": "h2"}
    row = env.store.get(inst)
    assert (row["host"], row["task_state"]) == ("h1", states.MIGRATING)
    action = env.store.get_action(inst, ctxt.request_id)
    assert [(e["event"], e["result"]) for e in action["events"]] == [
        ("conductor_live_migrate_instance", "Success")]
    # The scheduler counts the instance on h2 until the migration ends.
    spec = env.scheduler.calls[0][0]
    assert spec["ignore_hosts"] == ["h1"] and spec["migration_uuid"] == migration["uuid"]


def test_a_named_host_goes_through_the_scheduler_filters(env: Env) -> None:
    for host in ("h1", "h2", "h3"):
        fx.add_host(env.db, host, memory_mb=8192 if host == "h2" else 4096)
    inst = env.server()
    env.live(inst, host="h3")
    assert env.compute.casts[-1][2]["dest"] == "h3"
    assert env.scheduler.calls[0][0]["requested_host"] == "h3"


@pytest.mark.parametrize("host,error,message", [
    ("nowhere", mig_exception.DestinationHostNotFound,
     "Compute host nowhere could not be found."),
    ("h1", exception.UnableToMigrateToSelf, "to current host (h1)"),
    ("down", mig_exception.DestinationHostUnavailable,
     "Compute service of down is unavailable at this time."),
    ("off", mig_exception.NoValidHostForMove, "No valid host was found."),
])
def test_a_bad_destination_is_refused_before_any_node_is_asked(
        env: Env, host: str, error: type[Exception], message: str) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "down", alive=False)
    fx.add_host(env.db, "off", disabled=True)
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    with pytest.raises(common_exception.Error) as caught:
        env.live(inst, host=host, ctxt=ctxt)
    assert isinstance(caught.value, error)
    assert message in str(caught.value)
    assert caught.value.code == 400
    assert env.compute.casts == []
    _assert_refused(env, inst, ctxt, message)


def _assert_refused(env: Env, inst: str, ctxt: Any, message: str) -> None:
    row = env.store.get(inst)
    assert (row["host"], row["vm_state"], row["task_state"]) == ("h1", states.ACTIVE, None)
    [migration] = env.migrations(inst)
    assert migration["status"] == "error"
    fault = env.store.latest_faults([inst])[inst]
    assert fault["code"] == 400 and message in fault["message"]
    action = env.store.get_action(inst, ctxt.request_id)
    assert action["events"][-1]["result"] == "Error"


def test_no_other_host_is_a_400(env: Env) -> None:
    fx.add_host(env.db, "h1")
    inst = env.server()
    with pytest.raises(mig_exception.NoValidHostForMove):
        env.live(inst)


@pytest.mark.parametrize("method,error,released", [
    ("check_can_live_migrate_destination",
     virt_exception.MigrationPreCheckError(reason="CPU mismatch"), False),
    ("check_can_live_migrate_destination",
     exception.ComputeResourcesUnavailable(reason="free memory 10 < requested 512"), False),
    ("check_can_live_migrate_source",
     virt_exception.MigrationPreCheckError(reason="Block migration can not be used with "
                                                  "shared storage."), True),
])
def test_a_failed_node_check_is_a_400_and_frees_the_destination(
        env: Env, method: str, error: Exception, released: bool) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    env.compute.errors[method] = error
    with pytest.raises(virt_exception.MigrationPreCheckError) as caught:
        env.live(inst, ctxt=ctxt)
    assert caught.value.code == 400
    rollbacks = [h for m, h in env.methods() if m == "rollback_live_migration_at_destination"]
    assert rollbacks == (["h2"] if released else [])
    assert ("live_migration", "h1") not in env.methods()
    _assert_refused(env, inst, ctxt, str(error.kwargs.get("reason")))  # type: ignore


def test_a_node_that_does_not_answer_is_a_503(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    inst = env.server()
    env.compute.errors["check_can_live_migrate_source"] = oslo_messaging.MessagingTimeout()
    with pytest.raises(exception.ComputeServiceUnavailable) as caught:
        env.live(inst)
    assert caught.value.code == 503
    assert env.methods()[-1] == ("rollback_live_migration_at_destination", "h2")
    assert env.store.get(inst)["task_state"] is None


def test_evacuation_schedules_away_from_the_failed_host(env: Env) -> None:
    fx.add_host(env.db, "h1", alive=False)
    fx.add_host(env.db, "h2")
    ctxt = fx.ctxt()
    inst = env.server(request_id=ctxt.request_id)
    env.store.update(inst, {"task_state": states.REBUILDING})
    env.conductor.evacuate_instance(ctxt, inst, None)
    [(method, host, kwargs)] = env.compute.casts
    assert (method, host, kwargs["node"]) == ("evacuate_instance", "h2", "h2")
    [migration] = env.migrations(inst)
    assert kwargs["migration_uuid"] == migration["uuid"]
    assert (migration["migration_type"], migration["status"], migration["source_compute"],
            migration["dest_compute"]) == ("evacuation", "accepted", "h1", "h2")
    action = env.store.get_action(inst, ctxt.request_id)
    assert action["events"][-1]["event"] == "conductor_rebuild_server"


def test_evacuation_without_a_host_is_error(env: Env) -> None:
    fx.add_host(env.db, "h1", alive=False)
    inst = env.server()
    env.store.update(inst, {"task_state": states.REBUILDING})
    env.conductor.evacuate_instance(fx.ctxt(), inst, None)
    assert env.compute.casts == []
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"], row["host"]) == (states.ERROR, None, "h1")
    assert env.migrations(inst)[0]["status"] == "error"
    assert env.store.latest_faults([inst])[inst]["message"].startswith("No valid host")


def test_evacuation_of_an_instance_no_longer_rebuilding_does_nothing(env: Env) -> None:
    fx.add_host(env.db, "h2")
    inst = env.server()
    env.conductor.evacuate_instance(fx.ctxt(), inst, None)
    assert env.compute.casts == [] and env.migrations(inst) == []


def test_nodes_find_their_pending_evacuations(env: Env) -> None:
    fx.add_host(env.db, "h1", alive=False)
    fx.add_host(env.db, "h2")
    inst = env.server()
    env.store.update(inst, {"task_state": states.REBUILDING})
    env.conductor.evacuate_instance(fx.ctxt(), inst, "h2")
    found = env.conductor.migration_get_all_by_source(fx.ctxt(), "h1", "evacuation",
                                                      ["accepted", "done"])
    assert [m["instance_uuid"] for m in found] == [inst]
    assert env.conductor.migration_get_all_by_source(fx.ctxt(), "h2", "evacuation",
                                                     ["accepted"]) == []


def test_a_call_the_api_gave_up_on_does_nothing(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    inst = env.server()
    fx.call(env.conductor.live_migrate_instance, fx.ctxt(), inst, None, None, None)
    assert env.compute.casts == [] and env.migrations(inst) == []

"""unshelve_instance on the conductor: an offloaded instance is scheduled again
with its request spec and the shelved image, then cast to the chosen node; no
valid host leaves it offloaded with a fault."""
from __future__ import annotations

from typing import Any

import pytest

from compute import states
from compute.conductor import manager as conductor_manager
from compute.conductor import shelve
from compute.db import instances as instances_db
from compute.scheduler import manager as scheduler_manager
from tests.fixtures import compute_daemons as fx

SHELVED_IMAGE = "99999999-8888-7777-6666-555555555555"


class Env:
    def __init__(self, tmp_path: Any) -> None:
        self.conf, self.db = fx.make_db(str(tmp_path))
        self.scheduler = fx.InProcessScheduler(
            scheduler_manager.SchedulerManager(self.conf, self.db))
        self.compute = fx.FakeCompute()
        self.conductor = conductor_manager.ConductorManager(
            self.conf, self.db, scheduler=self.scheduler, compute=self.compute)
        self.store = instances_db.InstanceStore(self.db)

    def offloaded(self, flavor: dict[str, Any] | None = None,
                  request_id: str | None = None) -> str:
        spec = fx.spec(flavor, image={"id": "boot-image", "properties": {}},
                       retry={"num_attempts": 1}, ignore_hosts=["h0"])
        inst = fx.add_instance(self.db, flavor, host=None, vm_state=states.SHELVED_OFFLOADED,
                               task_state=states.UNSHELVING, request_spec=spec,
                               request_id=request_id)
        self.store.update(inst, {"system_metadata": {"shelved_image_id": SHELVED_IMAGE}})
        return inst


@pytest.fixture
def env(tmp_path: Any) -> Any:
    environment = Env(tmp_path)
    yield environment
    environment.db.dispose()


def test_unshelve_schedules_with_the_shelved_image_and_casts(env: Env) -> None:
    fx.add_host(env.db, "h1")
    ctxt = fx.ctxt()
    inst = env.offloaded(request_id=ctxt.request_id)
    env.conductor.unshelve_instance(ctxt, inst)
    [(spec, uuids)] = env.scheduler.calls
    assert uuids == [inst]
    assert spec["image"]["id"] == SHELVED_IMAGE
    assert "retry" not in spec and "ignore_hosts" not in spec
    assert spec["num_instances"] == 1 and spec["flavor"]["memory_mb"] == fx.TINY["memory_mb"]
    [(method, host, kwargs)] = env.compute.casts
    assert (method, host, kwargs["node"]) == ("unshelve_instance", "h1", "h1")
    assert kwargs["limits"]["memory_mb"] == 4096.0
    assert env.store.get(inst)["host"] == "h1"  # recorded by the scheduler
    events = env.store.get_action(inst, ctxt.request_id)["events"]
    assert [(e["event"], e["result"]) for e in events] == [
        (shelve.EVENT, "Success")]


def test_no_valid_host_leaves_it_offloaded(env: Env) -> None:
    fx.add_host(env.db, "h1", memory_mb=64)
    ctxt = fx.ctxt()
    inst = env.offloaded(request_id=ctxt.request_id)
    env.conductor.unshelve_instance(ctxt, inst)
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"], row["host"]) == (
        states.SHELVED_OFFLOADED, None, None)
    assert env.compute.casts == []
    assert env.store.latest_faults([inst])[inst]["code"] == 500
    events = env.store.get_action(inst, ctxt.request_id)["events"]
    assert [(e["event"], e["result"]) for e in events] == [(shelve.EVENT, "Error")]


def test_a_bus_that_refuses_the_cast_fails_it_too(env: Env) -> None:
    fx.add_host(env.db, "h1")
    env.compute.fail = True
    inst = env.offloaded()
    env.conductor.unshelve_instance(fx.ctxt(), inst)
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"], row["host"]) == (
        states.SHELVED_OFFLOADED, None, None)


def test_a_deleted_instance_is_skipped(env: Env) -> None:
    inst = env.offloaded()
    env.store.destroy(inst)
    env.conductor.unshelve_instance(fx.ctxt(), inst)
    assert env.scheduler.calls == []

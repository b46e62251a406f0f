"""The conductor's build workflow over a real SQLite database, with the real
scheduler manager in process and the compute nodes' casts recorded."""
from __future__ import annotations

import datetime
from typing import Any

import oslo_messaging
import pytest

from common.db import models as base_models
from compute import states
from compute.conductor import build
from compute.conductor import manager as conductor_manager
from compute.db import instances as instances_db
from compute.db import models
from compute.scheduler import manager as scheduler_manager
from tests.fixtures import compute_daemons as fx

EVENT = "conductor_schedule_and_build_instances"


class Env:
    def __init__(self, tmp_path: Any) -> None:
        self.conf, self.db = fx.make_db(str(tmp_path))
        self.scheduler = fx.InProcessScheduler(
            scheduler_manager.SchedulerManager(self.conf, self.db))
        self.compute = fx.FakeCompute()
        self.conductor = conductor_manager.ConductorManager(
            self.conf, self.db, scheduler=self.scheduler, compute=self.compute)
        self.store = instances_db.InstanceStore(self.db)

    def boot(self, count: int = 1, flavor: dict[str, Any] | None = None,
             **spec: Any) -> tuple[Any, list[str]]:
        ctxt = fx.ctxt()
        uuids = [fx.add_instance(self.db, flavor, request_id=ctxt.request_id)
                 for _ in range(count)]
        self.conductor.build_instances(ctxt, uuids,
                                       fx.spec(flavor, num_instances=count, **spec))
        return ctxt, uuids

    def event(self, instance_uuid: str, ctxt: Any, name: str = EVENT) -> dict[str, Any]:
        action = self.store.get_action(instance_uuid, ctxt.request_id)
        [found] = [e for e in action["events"] if e["event"] == name][-1:]
        return dict(found, action_message=action["message"])

    def fault(self, instance_uuid: str) -> dict[str, Any]:
        return self.store.latest_faults([instance_uuid])[instance_uuid]


@pytest.fixture
def env(tmp_path: Any) -> Any:
    environment = Env(tmp_path)
    yield environment
    environment.db.dispose()


def test_build_schedules_keeps_alternates_and_casts_to_the_node(env: Env) -> None:
    for host in ("h1", "h2", "h3"):
        fx.add_host(env.db, host)
    ctxt, [inst] = env.boot()
    [(method, host, kwargs)] = env.compute.casts
    assert method == "build_and_run_instance"
    assert kwargs["instance_uuid"] == inst and kwargs["node"] == host
    assert kwargs["limits"] == {"memory_mb": 4096.0, "vcpu": 4.0, "disk_gb": 100.0}
    row = env.store.get(inst)
    assert (row["host"], row["node"], row["vm_state"], row["task_state"]) == (
        host, host, states.BUILDING, states.SCHEDULING)
    retry = row["request_spec"]["retry"]
    assert retry["num_attempts"] == 1 and retry["hosts"] == [[host, host]]
    assert sorted(a["host"] for a in retry["alternates"]) == sorted(
        {"h1", "h2", "h3"} - {host})
    assert kwargs["request_spec"]["retry"] == retry
    assert kwargs["request_spec"]["flavor"]["memory_mb"] == 512
    event = env.event(inst, ctxt)
    assert event["result"] == "Success" and event["finish_time"]


def test_build_of_several_instances_spreads_them(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    _ctxt, uuids = env.boot(4)
    assert sorted(c[1] for c in env.compute.casts) == ["h1", "h1", "h2", "h2"]
    assert [c[2]["instance_uuid"] for c in env.compute.casts] == uuids


def test_no_valid_host_fails_every_instance_with_the_filter_message(env: Env) -> None:
    fx.add_host(env.db, "h1", disabled=True)
    fx.add_host(env.db, "h2", memory_mb=256)
    ctxt, uuids = env.boot(2)
    assert env.compute.casts == []
    for inst in uuids:
        row = env.store.get(inst)
        assert (row["vm_state"], row["task_state"], row["host"]) == (states.ERROR, None,
                                                                     None)
        fault = env.fault(inst)
        assert fault["code"] == 500
        assert fault["message"] == (
            "No valid host was found. There are not enough hosts available (2 hosts known, "
            "placing instance 1 of 2, ComputeFilter removed 1, RamFilter removed 1).")
        event = env.event(inst, ctxt)
        assert event["result"] == "Error" and event["action_message"] == "Error"


def test_instance_deleted_while_scheduling_is_skipped(env: Env) -> None:
    fx.add_host(env.db, "h1")
    victims: list[str] = []

    def delete_first(uuids: list[str]) -> None:
        env.store.destroy(uuids[0])  # the user deletes it meanwhile
        victims.append(uuids[0])

    env.scheduler.after = delete_first
    _ctxt, uuids = env.boot(2)
    assert [c[2]["instance_uuid"] for c in env.compute.casts] == [uuids[1]]
    assert env.store.get(victims[0], read_deleted=True)["vm_state"] == "deleted"


def test_instance_being_deleted_is_not_cast(env: Env) -> None:
    fx.add_host(env.db, "h1")

    def start_deleting(uuids: list[str]) -> None:
        env.store.update(uuids[0], {"task_state": states.DELETING})

    env.scheduler.after = start_deleting
    env.boot(1)
    assert env.compute.casts == []


def test_unreachable_scheduler_fails_the_build(env: Env) -> None:
    env.scheduler.error = oslo_messaging.MessagingTimeout("no reply on compute-scheduler")
    _ctxt, [inst] = env.boot()
    assert env.store.get(inst)["vm_state"] == states.ERROR
    assert "while scheduling" in env.fault(inst)["message"]


def test_failed_cast_fails_the_build(env: Env) -> None:
    fx.add_host(env.db, "h1")
    env.compute.fail = True
    _ctxt, [inst] = env.boot()
    assert env.store.get(inst)["vm_state"] == states.ERROR
    assert "the bus is gone" in env.fault(inst)["message"]


def test_reschedule_walks_the_alternates_then_gives_up(env: Env) -> None:
    for host in ("h1", "h2", "h3"):
        fx.add_host(env.db, host)
    ctxt, [inst] = env.boot()
    tried = [env.compute.casts[-1][1]]
    for attempt in (2, 3):
        env.conductor.reschedule(ctxt, inst, tried[-1], "boom %d" % attempt)
        method, host, kwargs = env.compute.casts[-1]
        assert method == "build_and_run_instance" and host not in tried
        tried.append(host)
        row = env.store.get(inst)
        assert (row["host"], row["node"], row["task_state"]) == (host, host,
                                                                 states.SCHEDULING)
        retry = row["request_spec"]["retry"]
        assert retry["num_attempts"] == attempt
        assert [h for h, _n in retry["hosts"]] == tried
        assert kwargs["request_spec"]["retry"] == retry
        assert kwargs["limits"]["memory_mb"] == 4096.0
    assert len(env.compute.casts) == 3
    env.conductor.reschedule(ctxt, inst, tried[-1], "disk full")
    assert len(env.compute.casts) == 3
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"], row["host"], row["node"]) == (
        states.ERROR, None, None, None)
    assert env.fault(inst)["message"] == (
        "Exceeded maximum number of retries. Exceeded max scheduling attempts 3 for "
        "instance %s. Last exception: disk full" % inst)
    assert env.event(inst, ctxt)["result"] == "Error"


def test_reschedule_without_alternates_fails_at_once(env: Env) -> None:
    fx.add_host(env.db, "h1")
    ctxt, [inst] = env.boot()
    env.conductor.reschedule(ctxt, inst, "h1", "no space")
    assert env.store.get(inst)["vm_state"] == states.ERROR
    assert env.fault(inst)["message"] == (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        "build failures for instance %s. Last exception: no space" % inst)


def test_reschedule_respects_max_attempts(env: Env) -> None:
    for host in ("h1", "h2", "h3"):
        fx.add_host(env.db, host)
    ctxt, [inst] = env.boot()
    env.conf.set_override("max_attempts", 1, group="filter_scheduler")
    env.conductor.reschedule(ctxt, inst, env.compute.casts[-1][1], "boom")
    assert len(env.compute.casts) == 1
    assert "max scheduling attempts 1" in env.fault(inst)["message"]


def test_reschedule_of_a_deleted_or_deleting_instance_does_nothing(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    ctxt, [first, second] = env.boot(2)
    env.store.destroy(first)
    env.conductor.reschedule(ctxt, first, env.compute.casts[0][1], "boom")
    env.store.update(second, {"task_state": states.DELETING})
    env.conductor.reschedule(ctxt, second, env.compute.casts[1][1], "boom")
    assert len(env.compute.casts) == 2
    assert env.store.get(second)["task_state"] == states.DELETING


def _age(env: Env, instance_uuid: str, seconds: int) -> None:
    old = base_models.utcnow() - datetime.timedelta(seconds=seconds)
    with env.db.writer() as session:
        row = session.query(models.Instance).filter_by(uuid=instance_uuid).one()
        row.updated_at = old
        row.created_at = old


def test_stuck_builds_on_dead_hosts_go_to_error(env: Env) -> None:
    fx.add_host(env.db, "alive")
    fx.add_host(env.db, "dead", alive=False)
    on_dead = fx.add_instance(env.db, host="dead", task_state=states.SPAWNING)
    unscheduled = fx.add_instance(env.db)
    on_alive = fx.add_instance(env.db, host="alive", task_state=states.SPAWNING)
    recent = fx.add_instance(env.db, host="dead")
    active = fx.add_instance(env.db, host="dead", vm_state=states.ACTIVE, task_state=None)
    for inst in (on_dead, unscheduled, on_alive, active):
        _age(env, inst, 3600)
    failed = env.conductor.builder.fail_stuck_builds()
    assert sorted(failed) == sorted([on_dead, unscheduled])
    assert env.store.get(on_dead)["vm_state"] == states.ERROR
    assert "compute host dead is not running" in env.fault(on_dead)["message"]
    assert "never scheduled" in env.fault(unscheduled)["message"]
    for inst in (on_alive, recent):
        assert env.store.get(inst)["vm_state"] == states.BUILDING
    assert env.store.get(active)["vm_state"] == states.ACTIVE
    env.conf.set_override("build_timeout", 0, group="conductor")
    assert env.conductor.builder.fail_stuck_builds() == []


def test_error_message_of_plain_exceptions() -> None:
    assert build.error_message(RuntimeError("x")) == "RuntimeError: x"
    assert build.error_message(RuntimeError()) == "RuntimeError"

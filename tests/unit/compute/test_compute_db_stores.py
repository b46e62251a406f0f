"""The instance store, the host store and quotas on a real (SQLite) compute database."""
from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from oslo_config import cfg

from common.db import engine
from common.db import migration
from compute import conf as compute_conf
from compute import exception
from compute import quotas
from compute import states
from compute.cmd import manage
from compute.db import hosts
from compute.db import instances

FLAVOR = {"flavorid": "1", "name": "m1.tiny", "memory_mb": 128, "vcpus": 1, "root_gb": 1,
          "ephemeral_gb": 0, "extra_specs": {}}


@pytest.fixture()
def db(tmp_path: Any) -> Any:
    url = "sqlite:///%s/compute.sqlite" % tmp_path
    migration.sync(manage.MIGRATIONS, url)
    database = engine.Database(engine.create_engine(url))
    yield database
    database.dispose()


@pytest.fixture()
def store(db: Any) -> instances.InstanceStore:
    return instances.InstanceStore(db)


def _new(store: instances.InstanceStore, project: str = "p1", **values: Any) -> dict[str, Any]:
    base = {"project_id": project, "user_id": "u1", "display_name": "vm",
            "vm_state": states.BUILDING, "task_state": states.SCHEDULING, "flavor": FLAVOR}
    base.update(values)
    return store.create(base)


def test_create_copies_the_flavor_size_and_get_returns_json_ready_dict(store: Any) -> None:
    inst = store.create({"project_id": "p1", "user_id": "u1", "vm_state": "building",
                         "flavor": FLAVOR}, metadata={"k": "v"})
    got = store.get(inst["uuid"])
    assert got["memory_mb"] == 128 and got["vcpus"] == 1 and got["root_gb"] == 1
    assert got["metadata"] == {"k": "v"} and got["tags"] == []
    assert isinstance(got["created_at"], str)
    datetime.datetime.strptime(got["created_at"], instances.TIME_FORMAT)
    with pytest.raises(ValueError):
        store.create({"project_id": "p", "user_id": "u", "vm_state": "x", "flavor": FLAVOR,
                      "bogus": 1})


def test_update_is_compare_and_set_on_states(store: Any) -> None:
    inst = _new(store)
    store.update(inst["uuid"], {"task_state": None, "vm_state": states.ACTIVE},
                 expected_task_state=states.SCHEDULING)
    with pytest.raises(exception.UnexpectedTaskStateError) as err:
        store.update(inst["uuid"], {"task_state": states.POWERING_OFF},
                     expected_task_state=states.SCHEDULING)
    assert err.value.code == 409
    with pytest.raises(exception.UnexpectedVMStateError):
        store.update(inst["uuid"], {"task_state": states.POWERING_ON},
                     expected_task_state=[None], expected_vm_state=[states.STOPPED])
    got = store.update(inst["uuid"], {"task_state": states.POWERING_OFF},
                       expected_task_state=[None], expected_vm_state=states.ACTIVE)
    assert got["task_state"] == states.POWERING_OFF
    with pytest.raises(ValueError):
        store.update(inst["uuid"], {"uuid": "x"})


def test_only_one_of_two_racing_actions_wins(store: Any) -> None:
    inst = _new(store, vm_state=states.ACTIVE, task_state=None)
    wins, losses = [], []

    def act(task: str) -> None:
        try:
            store.update(inst["uuid"], {"task_state": task}, expected_task_state=None)
            wins.append(task)
        except exception.UnexpectedTaskStateError:
            losses.append(task)

    threads = [threading.Thread(target=act, args=(t,))
               for t in (states.POWERING_OFF, states.REBOOTING, states.PAUSING)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == 2


def test_soft_delete_hides_the_row_but_keeps_it_readable(store: Any) -> None:
    inst = _new(store)
    store.destroy(inst["uuid"])
    store.destroy(inst["uuid"])  # idempotent
    with pytest.raises(exception.InstanceNotFound):
        store.get(inst["uuid"])
    gone = store.get(inst["uuid"], read_deleted=True)
    assert gone["vm_state"] == states.DELETED and gone["deleted"] != 0
    assert store.get_all(project_id="p1") == []
    assert [i["uuid"] for i in store.get_all(read_deleted=True)] == [inst["uuid"]]
    assert store.count("p1") == {"instances": 0, "cores": 0, "ram": 0}


def test_get_all_filters_sorts_and_pages(store: Any) -> None:
    made = [_new(store, display_name="vm%d" % i, vm_state=states.ACTIVE, task_state=None)
            for i in range(5)]
    _new(store, project="p2")
    store.add_tag(made[0]["uuid"], "a")
    store.set_tags(made[1]["uuid"], ["a", "b"])
    listed = store.get_all(project_id="p1", sort=[("display_name", "asc")])
    assert [i["display_name"] for i in listed] == ["vm0", "vm1", "vm2", "vm3", "vm4"]
    page = store.get_all(project_id="p1", sort=[("display_name", "asc")], limit=2,
                         marker=listed[1]["uuid"])
    assert [i["display_name"] for i in page] == ["vm2", "vm3"]
    with pytest.raises(exception.MarkerNotFound):
        store.get_all(marker="nope")
    assert {i["uuid"] for i in store.get_all(tags=["a", "b"])} == {made[1]["uuid"]}
    assert {i["uuid"] for i in store.get_all(tags_any=["a"])} == {made[0]["uuid"],
                                                                  made[1]["uuid"]}
    assert made[1]["uuid"] not in {i["uuid"] for i in store.get_all(not_tags=["a", "b"])}
    assert made[0]["uuid"] in {i["uuid"] for i in store.get_all(not_tags=["a", "b"])}
    assert len(store.get_all(task_states=[None], project_id="p1")) == 5
    assert len(store.get_all(equal={"display_name": ["vm1", "vm3"]})) == 2


def test_metadata_tags_faults_and_actions(store: Any) -> None:
    inst = _new(store)
    uuid = inst["uuid"]
    assert store.set_metadata(uuid, {"a": "1", "b": "2"}, replace=False) == {"a": "1", "b": "2"}
    assert store.set_metadata(uuid, {"b": "3"}, replace=True) == {"b": "3"}
    store.delete_metadata(uuid, "b")
    with pytest.raises(exception.InstanceMetadataNotFound):
        store.delete_metadata(uuid, "b")
    assert store.add_tag(uuid, "t") is True and store.add_tag(uuid, "t") is False
    with pytest.raises(exception.InstanceTagNotFound):
        store.delete_tag(uuid, "zz")
    store.add_fault(uuid, 500, "first")
    store.add_fault(uuid, 500, "second" * 100)
    assert store.latest_faults([uuid])[uuid]["message"].startswith("second")
    store.action_start(uuid, "create", "req-1", "u1", "p1")
    store.action_event_start(uuid, "req-1", "compute_build_and_run_instance", "h1")
    store.action_event_finish(uuid, "req-1", "compute_build_and_run_instance", "Error", "tb")
    store.action_event_start(uuid, "req-missing", "x")  # ignored
    action = store.get_action(uuid, "req-1")
    assert action["message"] == "Error" and action["events"][0]["result"] == "Error"
    assert [a["action"] for a in store.list_actions(uuid)] == ["create"]
    with pytest.raises(exception.InstanceActionNotFound):
        store.get_action(uuid, "req-2")


def test_host_store_services_and_nodes(db: Any) -> None:
    store = hosts.HostStore(db)
    first = store.service_report(hosts.COMPUTE_BINARY, "h1", "compute")
    again = store.service_report(hosts.COMPUTE_BINARY, "h1", "compute")
    assert first["id"] == again["id"] and again["report_count"] == 2
    assert hosts.is_up(again, 60)
    old = dict(again, last_seen_up="2000-01-01T00:00:00.000000")
    assert not hosts.is_up(old, 60)
    assert not hosts.is_up(dict(again, forced_down=True), 60)
    store.service_update(first["id"], {"disabled": True, "disabled_reason": "maint"})
    assert store.service_get(first["uuid"])["disabled"] is True
    node = store.compute_node_update("h1", {"hypervisor_hostname": "h1", "vcpus": 4,
                                            "memory_mb": 4096, "local_gb": 40,
                                            "memory_mb_used": 512, "hypervisor_type": "fake"})
    assert node["free_ram_mb"] == 3584
    assert store.compute_node_update("h1", {"hypervisor_hostname": "h1",
                                            "vcpus_used": 2})["id"] == node["id"]
    assert len(store.compute_node_list("h1")) == 1
    store.service_delete(first["id"])
    assert store.compute_node_list() == []
    with pytest.raises(hosts.ServiceNotFound):
        store.service_get(first["id"])


def test_quotas_defaults_overrides_usage_and_checks(db: Any, store: Any) -> None:
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf([], default_config_files=[])
    quota = quotas.QuotaService(conf, db)
    assert quota.limits("p1")["instances"] == 10
    assert quota.defaults()["security_groups"] == 10
    quota.update("p1", {"instances": 2, "cores": 3})
    _new(store, vm_state=states.ACTIVE)
    quota.check("p1", "u1", {"instances": 1, "cores": 1, "ram": 128})
    with pytest.raises(exception.TooManyInstances) as err:
        quota.check("p1", "u1", {"instances": 2, "cores": 1})
    assert err.value.code == 403
    assert "Quota exceeded for instances: Requested 2, but already used 1 of 2" in str(err.value)
    with pytest.raises(exception.QuotaBelowUsage):
        quota.update("p1", {"instances": 0})
    quota.update("p1", {"instances": 0}, force=True)
    with pytest.raises(exception.InvalidQuotaValue):
        quota.update("p1", {"bogus": 1})
    detail = quota.detail("p1", "u1")
    assert detail["instances"] == {"limit": 0, "in_use": 1, "reserved": 0}
    quota.delete("p1")
    assert quota.limits("p1")["instances"] == 10
    quota.update("p1", {"instances": 1})
    quota.check("p1", "u1", {"instances": 1}, recheck=True)


def _statements(db: Any) -> list[str]:
    import sqlalchemy as sa
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


def test_reads_and_updates_carry_metadata_and_tags_in_few_statements(db: Any,
                                                                     store: Any) -> None:
    inst = store.create({"project_id": "p1", "user_id": "u1", "vm_state": "building",
                         "task_state": states.SCHEDULING, "flavor": FLAVOR},
                        metadata={"b": "2", "a": "1"})
    other = _new(store)
    store.set_tags(inst["uuid"], ["z", "y"])
    seen = _statements(db)
    got = store.get(inst["uuid"])
    assert (got["metadata"], got["tags"]) == ({"b": "2", "a": "1"}, ["y", "z"])
    assert list(got["metadata"]) == ["b", "a"]  # the order they were written in
    assert len(seen) == 2  # the row, then metadata and tags in one statement
    del seen[:]
    got = store.update(inst["uuid"], {"task_state": states.NETWORKING, "host": "h1",
                                      "launched_at": "2024-01-02T03:04:05.000000"},
                       expected_task_state=[states.SCHEDULING, None],
                       expected_vm_state=[states.BUILDING])
    assert (got["task_state"], got["host"], got["launched_at"]) == (
        states.NETWORKING, "h1", "2024-01-02T03:04:05.000000")
    assert (got["metadata"], got["tags"]) == ({"b": "2", "a": "1"}, ["y", "z"])
    assert len(seen) == 3  # the compare-and-set UPDATE, then the read back
    assert got["updated_at"] and got == store.get(inst["uuid"])
    listed = {i["uuid"]: i for i in store.get_all(project_id="p1")}
    assert (listed[inst["uuid"]]["tags"], listed[other["uuid"]]["tags"]) == (["y", "z"], [])
    assert listed[other["uuid"]]["metadata"] == {}
    resized = store.update(other["uuid"], {"flavor": dict(FLAVOR, vcpus=3)})
    assert resized["vcpus"] == 3 and resized["flavor"]["vcpus"] == 3


def test_update_compare_and_set_sees_other_writers(db: Any, store: Any) -> None:
    """The state check is in the UPDATE itself: a change made through another
    connection (another process) meanwhile is never overwritten."""
    inst = _new(store, vm_state=states.ACTIVE, task_state=None)
    elsewhere = engine.Database(engine.create_engine(str(db.engine.url)))
    try:
        instances.InstanceStore(elsewhere).update(inst["uuid"],
                                                  {"task_state": states.DELETING})
    finally:
        elsewhere.dispose()
    with pytest.raises(exception.UnexpectedTaskStateError) as err:
        store.update(inst["uuid"], {"task_state": states.REBOOTING}, expected_task_state=None)
    assert err.value.kwargs["actual"] == states.DELETING
    with pytest.raises(exception.UnexpectedVMStateError):
        store.update(inst["uuid"], {"task_state": None},
                     expected_task_state=states.DELETING, expected_vm_state=[states.STOPPED])
    store.destroy(inst["uuid"])
    with pytest.raises(exception.InstanceNotFound):
        store.update(inst["uuid"], {"task_state": None})


def test_action_events_close_the_latest_open_one(store: Any) -> None:
    uuid = _new(store)["uuid"]
    store.action_start(uuid, "create", "req-1", "u1", "p1")
    store.action_event_finish(uuid, "req-1", "never_started", "Success", host="h1")
    store.action_event_start(uuid, "req-1", "build", "h1")
    store.action_event_finish(uuid, "req-1", "build", "Success")
    store.action_event_start(uuid, "req-1", "build", "h2")
    store.action_event_finish(uuid, "req-1", "build", "Error", "tb")
    action = store.get_action(uuid, "req-1")
    assert [(e["event"], e["result"], e["host"], e["traceback"]) for e in action["events"]] == [
        ("never_started", "Success", "h1", None), ("build", "Success", "h1", None),
        ("build", "Error", "h2", "tb")]
    assert all(e["finish_time"] and e["start_time"] for e in action["events"])
    assert action["message"] == "Error" and action["finish_time"]
    assert action["updated_at"] == action["finish_time"]


def test_quota_limits_layering_and_checks_count_only_what_is_limited(db: Any,
                                                                     store: Any) -> None:
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf([], default_config_files=[])
    quota = quotas.QuotaService(conf, db)
    quota.update_class("default", {"instances": 5, "cores": 7})
    quota.update("p1", {"instances": 4})
    quota.update("p1", {"instances": 3}, user_id="u1")
    quota.update("p2", {"instances": 9})
    assert (quota.limits("p1")["instances"], quota.limits("p1", "u1")["instances"],
            quota.limits("p1", "u2")["instances"], quota.limits("p1")["cores"],
            quota.limits("p3")["instances"]) == (4, 3, 4, 7, 5)
    seen = _statements(db)
    quota.limits("p1", "u1")
    assert len(seen) == 1  # the default class's and the project's rows together
    quota.update("p1", {"instances": -1, "cores": -1, "ram": -1}, force=True)
    quota.update("p1", {"instances": -1}, user_id="u1", force=True)
    _new(store)
    del seen[:]
    quota.check("p1", "u1", {"instances": 1, "cores": 1, "ram": 128})
    assert len(seen) == 1  # unlimited: nothing counted
    quota.update("p1", {"cores": 1}, force=True)
    del seen[:]
    with pytest.raises(exception.TooManyInstances) as err:
        quota.check("p1", "u1", {"instances": 1, "cores": 1, "ram": 128})
    assert "cores" in str(err.value) and "instances" not in str(err.value)
    assert len(seen) == 2  # the limits, then the instances' sums only
    assert quota.usage("p1", "u1") == {"instances": 1, "cores": 1, "ram": 128,
                                       "server_groups": 0, "key_pairs": 0}

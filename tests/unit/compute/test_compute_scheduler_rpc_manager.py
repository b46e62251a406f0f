"""SchedulerManager over a real SQLite database: host states from the rows, the
use from instances and pending moves, filtering, and recording each decision."""
from __future__ import annotations

import inspect
import random
import threading
import uuid
from typing import Any

import pytest

from compute import exception
from compute import rpcapi
from compute.conductor import migrate
from compute.db import instances as instances_db
from compute.scheduler import host_manager
from compute.scheduler import manager
from tests.fixtures import compute_daemons as fx


@pytest.fixture
def env(tmp_path: Any) -> Any:
    conf, db = fx.make_db(str(tmp_path))
    sched = manager.SchedulerManager(conf, db, rng=random.Random(3))
    yield conf, db, sched
    db.dispose()


def _select(sched: manager.SchedulerManager, spec: dict[str, Any],
            uuids: list[str]) -> list[dict[str, Any]]:
    return list(fx.call(sched.select_destinations, fx.ctxt(), spec, uuids))


def test_rpc_version_in_sync_with_client() -> None:
    assert manager.SchedulerManager.RPC_API_VERSION == rpcapi.SchedulerAPI.RPC_API_VERSION
    assert manager.SchedulerManager.target.version == rpcapi.SchedulerAPI.RPC_API_VERSION
    client = inspect.signature(rpcapi.SchedulerAPI.select_destinations).parameters
    server = inspect.signature(manager.SchedulerManager.select_destinations).parameters
    assert list(client) == list(server)


def test_selection_is_recorded_in_the_instance_and_json_ready(env: Any) -> None:
    conf, db, sched = env
    for name in ("h1", "h2", "h3"):
        fx.add_host(db, name)
    inst = fx.add_instance(db)
    [selection] = _select(sched, fx.spec(), [inst])
    assert set(selection) == {"host", "node", "limits", "alternates"}
    assert selection["limits"] == {"memory_mb": 4096.0, "vcpu": 4.0, "disk_gb": 100.0}
    assert len(selection["alternates"]) == 2  # max_attempts 3: chosen + 2
    assert {a["host"] for a in selection["alternates"]} | {selection["host"]} == {
        "h1", "h2", "h3"}
    row = instances_db.InstanceStore(db).get(inst)
    assert (row["host"], row["node"]) == (selection["host"], selection["node"])


def test_use_is_summed_from_live_instances(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1", memory_mb=4096)
    fx.add_instance(db, dict(fx.TINY, memory_mb=3072), host="h1", vm_state="active",
                    task_state=None)
    gone = fx.add_instance(db, dict(fx.TINY, memory_mb=3072), host="h1")
    instances_db.InstanceStore(db).destroy(gone)  # deleted ones hold nothing
    big = fx.add_instance(db)
    with pytest.raises(exception.NoValidHost) as err:
        _select(sched, fx.spec(dict(fx.TINY, memory_mb=1536)), [big])
    assert "RamFilter removed 1" in err.value.message
    [selection] = _select(sched, fx.spec(dict(fx.TINY, memory_mb=1024)), [big])
    assert selection["host"] == "h1"


def test_down_disabled_and_forced_down_hosts_are_filtered(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "down", alive=False)
    fx.add_host(db, "disabled", disabled=True)
    fx.add_host(db, "forced", forced_down=True)
    inst = fx.add_instance(db)
    with pytest.raises(exception.NoValidHost) as err:
        _select(sched, fx.spec(), [inst])
    assert err.value.message == ("No valid host was found. There are not enough hosts "
                                 "available (3 hosts known, ComputeFilter removed 3).")
    fx.add_host(db, "up")
    sched.host_manager.invalidate()
    assert _select(sched, fx.spec(), [inst])[0]["host"] == "up"


def test_availability_zones_from_aggregates_and_the_default(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    fx.add_host(db, "h2")
    fx.add_aggregate(db, "agg1", ["h1"], {"availability_zone": "zone1", "ssd": "true"})
    uuids = [fx.add_instance(db) for _ in range(3)]
    assert _select(sched, fx.spec(availability_zone="zone1"), uuids[:1])[0]["host"] == "h1"
    assert _select(sched, fx.spec(availability_zone="nova"), uuids[1:2])[0]["host"] == "h2"
    conf.set_override("default_availability_zone", "elsewhere")
    with pytest.raises(exception.NoValidHost, match="AvailabilityZoneFilter removed 2"):
        _select(sched, fx.spec(availability_zone="nova"), uuids[2:])
    assert _select(sched, fx.spec(availability_zone="elsewhere"), uuids[2:])[0][
        "host"] == "h2"
    ssd = dict(fx.TINY, extra_specs={"aggregate_instance_extra_specs:ssd": "true"})
    assert _select(sched, fx.spec(ssd), [fx.add_instance(db)])[0]["host"] == "h1"


def test_sequential_requests_never_overbook(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1", memory_mb=1024)
    first, second, third = (fx.add_instance(db) for _ in range(3))
    assert _select(sched, fx.spec(), [first])[0]["host"] == "h1"
    assert _select(sched, fx.spec(), [second])[0]["host"] == "h1"
    with pytest.raises(exception.NoValidHost, match="RamFilter removed 1"):
        _select(sched, fx.spec(), [third])
    assert instances_db.InstanceStore(db).get(third)["host"] is None


def test_concurrent_requests_never_overbook(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1", memory_mb=2048)
    fx.add_host(db, "h2", memory_mb=2048)
    uuids = [fx.add_instance(db) for _ in range(12)]
    placed: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def boot(instance_uuid: str) -> None:
        try:
            [selection] = _select(sched, fx.spec(), [instance_uuid])
        except exception.NoValidHost:
            with lock:
                refused.append(instance_uuid)
            return
        with lock:
            placed.append(selection["host"])

    threads = [threading.Thread(target=boot, args=(u,)) for u in uuids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(placed) == ["h1"] * 4 + ["h2"] * 4
    assert len(refused) == 4
    rows = instances_db.InstanceStore(db).get_all()
    assert sorted(r["host"] for r in rows if r["host"]) == sorted(placed)


def test_multi_instance_request_spreads_and_records_all(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    fx.add_host(db, "h2")
    uuids = [fx.add_instance(db) for _ in range(4)]
    selections = _select(sched, fx.spec(num_instances=4), uuids)
    assert sorted(s["host"] for s in selections) == ["h1", "h1", "h2", "h2"]
    store = instances_db.InstanceStore(db)
    assert [store.get(u)["host"] for u in uuids] == [s["host"] for s in selections]


def test_instance_deleted_while_scheduling_is_not_revived(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    inst = fx.add_instance(db)
    instances_db.InstanceStore(db).destroy(inst)
    [selection] = _select(sched, fx.spec(), [inst])
    assert selection["host"] == "h1"
    row = instances_db.InstanceStore(db).get(inst, read_deleted=True)
    assert row["host"] is None and row["vm_state"] == "deleted"


def test_server_group_members_hosts_across_requests(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    fx.add_host(db, "h2", memory_mb=8192)
    member = fx.add_instance(db, host="h2", vm_state="active", task_state=None)
    new = fx.add_instance(db)
    anti = fx.add_group(db, "anti-affinity", [member, new])
    [selection] = _select(sched, fx.spec(scheduler_hints={"group": anti}), [new])
    assert selection["host"] == "h1"
    third = fx.add_instance(db)
    fx.add_group(db, "affinity", [])  # an unrelated group changes nothing
    aff = fx.add_group(db, "affinity", [member, third])
    assert _select(sched, fx.spec(group=aff), [third])[0]["host"] == "h2"
    fourth = fx.add_instance(db)
    with pytest.raises(exception.NoValidHost, match="ServerGroupAntiAffinityFilter"):
        with db.writer() as session:
            from compute.db import models
            group = session.query(models.InstanceGroup).filter_by(uuid=anti).one()
            group.members.append(models.InstanceGroupMember(instance_uuid=fourth))
        _select(sched, fx.spec(scheduler_hints={"group": anti}), [fourth])


def test_same_and_different_host_hints(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    fx.add_host(db, "h2", memory_mb=8192)
    other = fx.add_instance(db, host="h1", vm_state="active", task_state=None)
    inst = fx.add_instance(db)
    hints = {"same_host": [other]}
    assert _select(sched, fx.spec(scheduler_hints=hints), [inst])[0]["host"] == "h1"
    inst2 = fx.add_instance(db)
    hints = {"different_host": [other]}
    assert _select(sched, fx.spec(scheduler_hints=hints), [inst2])[0]["host"] == "h2"
    with pytest.raises(exception.NoValidHost, match="SameHostFilter"):
        _select(sched, fx.spec(scheduler_hints={"same_host": [str(uuid.uuid4())]}),
                [fx.add_instance(db)])


def test_forced_host_from_the_availability_zone(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    fx.add_host(db, "h2", memory_mb=8192)
    inst = fx.add_instance(db)
    assert _select(sched, fx.spec(availability_zone="nova:h1"), [inst])[0]["host"] == "h1"


def test_pending_resize_counts_on_the_destination(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "src", memory_mb=4096)
    fx.add_host(db, "dst", memory_mb=4096)
    big = dict(fx.TINY, memory_mb=3072)
    moving = fx.add_instance(db, host="src", vm_state="active", task_state="resize_prep")
    store = instances_db.InstanceStore(db)
    store.update(moving, {"old_flavor": fx.TINY, "new_flavor": big})
    migrations = migrate.MigrationStore(db)
    migrations.update("m1", {"instance_uuid": moving, "migration_type": "resize",
                             "status": "pre-migrating", "source_compute": "src",
                             "source_node": "src", "dest_compute": "dst",
                             "dest_node": "dst"})
    hosts = {h.host: h for h in sched.host_manager.host_states(
        sched._filter_scheduler().options)}
    assert (hosts["src"].memory_mb_used, hosts["dst"].memory_mb_used) == (512, 3072)
    # Finished: the instance runs the new flavor on dst, src keeps the old one.
    store.update(moving, {"host": "dst", "node": "dst", "flavor": big})
    migrations.update("m1", {"status": "finished"})
    hosts = {h.host: h for h in sched.host_manager.host_states(
        sched._filter_scheduler().options)}
    assert (hosts["src"].memory_mb_used, hosts["dst"].memory_mb_used) == (512, 3072)
    migrations.update("m1", {"status": "confirmed"})
    hosts = {h.host: h for h in sched.host_manager.host_states(
        sched._filter_scheduler().options)}
    assert (hosts["src"].memory_mb_used, hosts["dst"].memory_mb_used) == (0, 3072)


def test_move_records_the_destination_in_the_migration(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "src")
    fx.add_host(db, "dst", memory_mb=1024)
    moving = fx.add_instance(db, host="src", vm_state="active", task_state="resize_prep")
    migrations = migrate.MigrationStore(db)
    migrations.update("m1", {"instance_uuid": moving, "migration_type": "migration",
                             "status": "pre-migrating", "source_compute": "src"})
    spec = fx.spec(ignore_hosts=["src"], migration_uuid="m1", instance_uuid=moving)
    assert _select(sched, spec, [moving])[0]["host"] == "dst"
    assert migrations.get("m1")["dest_compute"] == "dst"
    assert instances_db.InstanceStore(db).get(moving)["host"] == "src"
    spec = fx.spec(requested_host="nowhere", migration_uuid="m1")
    with pytest.raises(exception.NoValidHost, match="0 hosts known"):
        _select(sched, spec, [moving])


def test_invalid_spec_is_no_valid_host(env: Any) -> None:
    conf, db, sched = env
    fx.add_host(db, "h1")
    with pytest.raises(exception.NoValidHost, match="Invalid request"):
        _select(sched, {"num_instances": 1}, [fx.add_instance(db)])


def test_spec_from_dict_reads_retry_and_forced_nodes() -> None:
    spec = host_manager.spec_from_dict(
        {"flavor": {"vcpus": "2", "memory_mb": 64, "swap": ""}, "availability_zone":
         "az:h1:n1", "retry": {"hosts": [["h2", "h2"]]}, "ignore_hosts": ["h3"]}, 2)
    assert (spec.flavor.vcpus, spec.flavor.memory_mb, spec.flavor.swap) == (2, 64, 0)
    assert (spec.availability_zone, spec.force_hosts, spec.force_nodes) == (
        "az", ["h1"], ["n1"])
    assert spec.ignore_hosts == ["h3", "h2"] and spec.num_instances == 2

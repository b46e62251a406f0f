"""The scheduler: filters, weigher and its decisions on a real (migrated) SQLite
database; the volume daemons' RPC client is a recorder (the process boundary)."""
from __future__ import annotations

import datetime
import pathlib
import shutil
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from common import context
from common.db import engine
from common.db import migration
from blockstorage import conf as bs_conf
from blockstorage import rpcapi
from blockstorage.cmd import manage
from blockstorage.db import models
from blockstorage.db import services as services_db
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db
from blockstorage.scheduler import filters
from blockstorage.scheduler import manager as manager_mod
from blockstorage.scheduler import weights


class RecordingVolumeRPC:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, dict[str, Any]]] = []

    def create_volume(self, ctxt: Any, host: str, volume_id: str,
                      request_spec: dict[str, Any], filter_properties: dict[str, Any],
                      allow_reschedule: bool = True) -> None:
        self.calls.append(("create_volume", host, volume_id, filter_properties))

    def extend_volume(self, ctxt: Any, host: str, volume_id: str, new_size: int) -> None:
        self.calls.append(("extend_volume", host, volume_id, {"new_size": new_size}))

    def retype(self, ctxt: Any, host: str, volume_id: str, new_type_id: str) -> None:
        self.calls.append(("retype", host, volume_id, {"new_type_id": new_type_id}))


def caps(free: float, total: float = 100.0, thin: bool = False, name: str = "file",
         **extra: Any) -> dict[str, Any]:
    report = {"volume_backend_name": name, "total_capacity_gb": total,
              "free_capacity_gb": free, "allocated_capacity_gb": total - free,
              "provisioned_capacity_gb": total - free, "reserved_percentage": 0,
              "max_over_subscription_ratio": 20.0, "thin_provisioning_support": thin,
              "storage_protocol": "file", "timestamp": "t1"}
    report.update(extra)
    return report


class Env:
    def __init__(self, tmp: pathlib.Path, template: pathlib.Path) -> None:
        shutil.copy(template, tmp / "blockstorage.sqlite")
        url = "sqlite:///" + str(tmp / "blockstorage.sqlite")
        self.db = engine.Database(engine.create_engine(url))
        self.conf = cfg.ConfigOpts()
        bs_conf.register_opts(self.conf)
        self.conf([], project="stratus-test", default_config_files=[])
        self.rpc = RecordingVolumeRPC()
        self.manager = manager_mod.SchedulerManager(self.conf, self.db, self.rpc)
        self.volumes = volumes_db.VolumeStore(self.db)
        self.services = services_db.ServiceStore(self.db)
        self.types = types_db.TypeStore(self.db)
        self.snapshots = snapshots_db.SnapshotStore(self.db)
        self.ctxt = context.admin_context()

    def backend(self, host: str, report: dict[str, Any], zone: str = "nova") -> None:
        self.services.register(rpcapi.VOLUME_BINARY, host, topic=rpcapi.VOLUME_TOPIC,
                               availability_zone=zone)
        self.services.update_capabilities(rpcapi.VOLUME_BINARY, host, report)

    def volume(self, size: int = 1, **values: Any) -> str:
        row = {"project_id": "p", "user_id": "u", "size": size, "status": "creating",
               "attach_status": "detached", "availability_zone": "nova", **values}
        return str(self.volumes.create(row)["id"])

    def create(self, volume_id: str, request_spec: dict[str, Any] | None = None,
               filter_properties: dict[str, Any] | None = None) -> None:
        self.manager.create_volume(self.ctxt, volume_id, request_spec or {},
                                   filter_properties or {})


@pytest.fixture(scope="module")
def template(tmp_path_factory: Any) -> pathlib.Path:
    """One migrated database per module; each test works on a copy."""
    path = tmp_path_factory.mktemp("schema") / "blockstorage.sqlite"
    migration.sync(manage.MIGRATIONS, "sqlite:///" + str(path))
    return pathlib.Path(path)


@pytest.fixture
def env(tmp_path: pathlib.Path, template: pathlib.Path) -> Env:
    return Env(tmp_path, template)


def test_most_free_backend_wins_and_host_is_written(env: Env) -> None:
    env.backend("node1@file", caps(free=40))
    env.backend("node2@file", caps(free=70))
    vid = env.volume(10)
    env.create(vid)
    assert env.volumes.get(vid)["host"] == "node2@file#file"
    (name, host, volume_id, props), = env.rpc.calls
    assert (name, host, volume_id) == ("create_volume", "node2@file#file", vid)
    assert props["retry"] == {"num_attempts": 1, "hosts": ["node2@file#file"]}


def test_placements_count_until_the_next_report(env: Env) -> None:
    env.backend("node1@file", caps(free=100))
    env.backend("node2@file", caps(free=90))
    first, second = env.volume(30), env.volume(30)
    env.create(first)
    env.create(second)
    assert env.volumes.get(first)["host"] == "node1@file#file"
    assert env.volumes.get(second)["host"] == "node2@file#file"


def test_no_backend_fits_names_the_filter(env: Env) -> None:
    env.backend("node1@file", caps(free=5))
    env.backend("node2@file", caps(free=8))
    vid = env.volume(10)
    env.create(vid)
    volume = env.volumes.get(vid)
    assert volume["status"] == "error"
    reason = volume["admin_metadata"]["fail_reason"]
    assert "CapacityFilter removed 2 of 2" in reason
    assert env.rpc.calls == []


def test_no_service_at_all(env: Env) -> None:
    vid = env.volume(1)
    env.create(vid)
    volume = env.volumes.get(vid)
    assert volume["status"] == "error"
    assert "No volume backend service is up" in volume["admin_metadata"]["fail_reason"]


def test_down_and_disabled_services_are_skipped(env: Env) -> None:
    env.backend("old@file", caps(free=90))
    env.backend("off@file", caps(free=80))
    env.backend("ok@file", caps(free=10))
    env.services.set_disabled("off@file", rpcapi.VOLUME_BINARY, True, "maintenance")
    long_ago = datetime.datetime(2020, 1, 1)
    with env.db.writer() as session:
        session.execute(sa.update(models.Service).where(models.Service.host == "old@file")
                        .values(updated_at=long_ago))
    vid = env.volume(1)
    env.create(vid)
    assert env.volumes.get(vid)["host"] == "ok@file#file"


def test_availability_zone_filter(env: Env) -> None:
    env.backend("a@file", caps(free=90), zone="zone-a")
    env.backend("b@file", caps(free=10), zone="zone-b")
    vid = env.volume(1, availability_zone="zone-b")
    env.create(vid)
    assert env.volumes.get(vid)["host"] == "b@file#file"
    lost = env.volume(1, availability_zone="zone-c")
    env.create(lost)
    assert "AvailabilityZoneFilter removed 2 of 2" in \
        env.volumes.get(lost)["admin_metadata"]["fail_reason"]


def test_type_extra_specs_pick_the_backend(env: Env) -> None:
    env.backend("n1@gold", caps(free=10, name="gold", thin=True))
    env.backend("n1@silver", caps(free=90, name="silver"))
    gold = env.types.create("gold")
    env.types.set_extra_specs(gold["id"], {"volume_backend_name": "gold"})
    thin = env.types.create("thin")
    env.types.set_extra_specs(thin["id"], {
        "capabilities:thin_provisioning_support": "<is> True",
        "capabilities:total_capacity_gb": ">= 50", "qos:iops": "ignored"})
    for type_id in (gold["id"], thin["id"]):
        vid = env.volume(1, volume_type_id=type_id)
        env.create(vid)
        assert env.volumes.get(vid)["host"] == "n1@gold#gold"
    # The request spec's type wins over the row's (what the API sends).
    vid = env.volume(1)
    env.create(vid, {"volume_type": {"extra_specs": {"volume_backend_name": "silver"}}})
    assert env.volumes.get(vid)["host"] == "n1@silver#silver"
    missing = env.volume(1)
    env.create(missing, {"volume_type": {"extra_specs": {"capabilities:nope": "1"}}})
    assert "CapabilitiesFilter removed 2 of 2" in \
        env.volumes.get(missing)["admin_metadata"]["fail_reason"]


def test_retry_skips_tried_hosts_and_gives_up(env: Env) -> None:
    env.backend("n1@file", caps(free=90))
    env.backend("n2@file", caps(free=10))
    vid = env.volume(1)
    env.create(vid, filter_properties={"retry": {"num_attempts": 1,
                                                  "hosts": ["n1@file#file"]}})
    assert env.volumes.get(vid)["host"] == "n2@file#file"
    assert env.rpc.calls[-1][3]["retry"] == {"num_attempts": 2,
                                              "hosts": ["n1@file#file", "n2@file#file"]}
    done = env.volume(1)
    env.create(done, filter_properties={"retry": {"num_attempts": 3, "hosts": [],
                                                   "exc": "disk on fire"}})
    volume = env.volumes.get(done)
    assert volume["status"] == "error"
    assert "Exceeded max scheduling attempts 3" in volume["admin_metadata"]["fail_reason"]
    assert "disk on fire" in volume["admin_metadata"]["fail_reason"]


def test_copies_stay_on_their_source_backend(env: Env) -> None:
    env.backend("n1@file", caps(free=10))
    env.backend("n2@file", caps(free=90))
    source = env.volume(1, status="available", host="n1@file#file")
    snap = env.snapshots.create({"project_id": "p", "user_id": "u", "volume_id": source,
                                 "size": 1, "status": "available"})
    from_snap = env.volume(1, snapshot_id=snap["id"])
    clone = env.volume(1, source_volid=source)
    env.create(from_snap)
    env.create(clone, {"source_volid": source})
    assert env.volumes.get(from_snap)["host"] == "n1@file#file"
    assert env.volumes.get(clone)["host"] == "n1@file#file"


def test_volume_not_creating_is_left_alone(env: Env) -> None:
    env.backend("n1@file", caps(free=90))
    vid = env.volume(1, status="deleting")
    env.create(vid)
    env.create(str(uuid.uuid4()))
    assert env.rpc.calls == []
    assert env.volumes.get(vid)["host"] is None


def test_extend_checks_the_own_backend(env: Env) -> None:
    env.backend("n1@file", caps(free=20))
    env.backend("n2@file", caps(free=90))
    vid = env.volume(5, status="extending", host="n1@file#file")
    env.manager.extend_volume(env.ctxt, vid, 50, {})
    volume = env.volumes.get(vid)
    assert volume["status"] == "available"
    assert "CapacityFilter removed 1 of 1" in volume["admin_metadata"]["fail_reason"]
    env.volumes.update(vid, {"status": "extending"})
    env.manager.extend_volume(env.ctxt, vid, 15, {})
    assert env.rpc.calls == [("extend_volume", "n1@file#file", vid, {"new_size": 15})]


def test_retype_checks_capabilities(env: Env) -> None:
    env.backend("n1@file", caps(free=20, name="file"))
    other = env.types.create("other")
    env.types.set_extra_specs(other["id"], {"volume_backend_name": "lvm"})
    same = env.types.create("same")
    env.types.set_extra_specs(same["id"], {"volume_backend_name": "file"})
    vid = env.volume(1, status="retyping", host="n1@file#file", attach_status="attached")
    env.manager.retype(env.ctxt, vid, other["id"], {})
    assert env.volumes.get(vid)["status"] == "in-use"
    env.volumes.update(vid, {"status": "retyping"})
    env.manager.retype(env.ctxt, vid, same["id"], {})
    assert env.rpc.calls == [("retype", "n1@file#file", vid, {"new_type_id": same["id"]})]


# -- the filters and the weigher on their own ---------------------------------------------

def backend(free: float, total: float = 100.0, **extra: Any) -> filters.BackendState:
    return filters.BackendState("h@b", "nova", caps(free=free, total=total, **extra))


def spec(size: int, **extra_specs: str) -> filters.RequestSpec:
    return filters.RequestSpec(volume_id="v", size=size, extra_specs=extra_specs)


def test_capacity_thick_keeps_the_reserve() -> None:
    flt = filters.CapacityFilter()
    assert flt.passes(backend(free=10), spec(10))
    assert not flt.passes(backend(free=10, reserved_percentage=5), spec(10))
    assert flt.passes(backend(free=15, reserved_percentage=5), spec(10))
    unknown = filters.BackendState("h@b", "nova", {"total_capacity_gb": "unknown",
                                                   "free_capacity_gb": "unknown"})
    assert flt.passes(unknown, spec(1000))
    assert not flt.passes(backend(free=10, total=0), spec(1))


def test_capacity_thin_over_subscribes_up_to_the_ratio() -> None:
    flt = filters.CapacityFilter()
    thin = backend(free=10, total=100, thin=True, max_over_subscription_ratio=2.0,
                   provisioned_capacity_gb=150)
    assert flt.passes(thin, spec(20))          # 170/100 <= 2, 10*2 >= 20
    assert not flt.passes(thin, spec(60))      # 210/100 > 2
    assert not flt.passes(thin, spec(20, **{"provisioning:type": "thick"}))


def test_scheduled_volumes_count_against_free_space_only_when_thick() -> None:
    """Between two capacity reports: on a thick backend each scheduled volume takes
    free space; on a thin one it only adds to what is provisioned."""
    flt = filters.CapacityFilter()
    thick = backend(free=10)
    thick.consumed_gb = 8
    assert not flt.passes(thick, spec(3))
    thin = backend(free=10, total=100, thin=True, max_over_subscription_ratio=20.0,
                   provisioned_capacity_gb=0)
    thin.consumed_gb = 80  # 80 one-GiB sparse files scheduled since the report
    assert thin.free_gb == 10 and thin.provisioned_gb == 80
    assert flt.passes(thin, spec(1))


def test_weigher_prefers_virtual_free_space() -> None:
    thick = filters.BackendState("a@b", "nova", caps(free=50))
    thin = filters.BackendState("b@b", "nova", caps(free=20, thin=True,
                                                     max_over_subscription_ratio=2.0,
                                                     provisioned_capacity_gb=100))
    ordered = weights.order(weights.get_weighers(["CapacityWeigher"]), [thick, thin],
                            spec(1))
    assert [b.host for b in ordered] == ["b@b", "a@b"]  # 200-100 > 50


@pytest.mark.parametrize("value,requirement,expected", [
    (True, "<is> True", True), ("False", "<is> True", False), (False, "<is> False", True),
    (100, ">= 50", True), (10, ">= 50", False), (10, "= 10", True), (11, "= 10", True),
    (9, "== 10", False), ("abc", "s== abc", True), ("b", "s> a", True),
    ("iSCSI file", "<in> file", True), ("x", "<or> a <or> x", True),
    ("y", "<or> a <or> x", False), ("a b c", "<all-in> a c", True),
    ("file", "file", True), (True, "true", True), ("x", "> 1", False),
])
def test_match_operators(value: Any, requirement: str, expected: bool) -> None:
    assert filters.match(value, requirement) is expected


def test_unknown_filter_names_fail() -> None:
    with pytest.raises(ValueError):
        filters.get_filters(["NopeFilter"])
    with pytest.raises(ValueError):
        weights.get_weighers(["NopeWeigher"])

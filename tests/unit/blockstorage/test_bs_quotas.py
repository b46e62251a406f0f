"""Quotas on a real migrated SQLite database: limits from [quota], the default
class and the project's own; usage summed live from volumes, snapshots and
backups (per type too); checks raising Cinder's 413 errors; the data of
os-quota-sets and limits."""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg

from common.db import engine as db_engine
from common.db import migration
from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import quotas
from blockstorage.cmd import manage
from blockstorage.db import models

PROJECT = "p1"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database, copied for each test (migrating takes a while)."""
    path = os.path.join(str(tmp_path_factory.mktemp("bs-template")), "bs.sqlite")
    migration.sync(manage.MIGRATIONS, "sqlite:///" + path)
    return path


@pytest.fixture
def env(tmp_path: Any,
        template: str) -> Iterator[tuple[quotas.QuotaEngine, db_engine.Database]]:
    path = os.path.join(str(tmp_path), "bs.sqlite")
    shutil.copy(template, path)
    url = "sqlite:///" + path
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    conf([])
    db = db_engine.Database(db_engine.create_engine(url))
    try:
        yield quotas.QuotaEngine(conf, db), db
    finally:
        db.dispose()


def _type(db: db_engine.Database, name: str) -> str:
    type_id = str(uuid.uuid4())
    with db.writer() as s:
        s.add(models.VolumeType(id=type_id, name=name))
    return type_id


def _volume(db: db_engine.Database, size: int, type_id: str | None = models.DEFAULT_TYPE_ID,
            project: str = PROJECT, use_quota: bool = True) -> str:
    vol_id = str(uuid.uuid4())
    with db.writer() as s:
        s.add(models.Volume(id=vol_id, project_id=project, user_id="u", size=size,
                            status="available", volume_type_id=type_id,
                            use_quota=use_quota))
    return vol_id


def _snapshot(db: db_engine.Database, volume_id: str, size: int,
              type_id: str | None = None) -> None:
    with db.writer() as s:
        s.add(models.Snapshot(id=str(uuid.uuid4()), project_id=PROJECT, user_id="u",
                              volume_id=volume_id, volume_type_id=type_id, size=size,
                              status="available"))


def _backup(db: db_engine.Database, size: int) -> None:
    with db.writer() as s:
        s.add(models.Backup(id=str(uuid.uuid4()), project_id=PROJECT, user_id="u",
                            volume_id=str(uuid.uuid4()), size=size, status="available"))


def test_defaults_from_options_then_default_class(env: Any) -> None:
    engine, _ = env
    defaults = engine.defaults()
    assert {k: defaults[k] for k in quotas.BASE_RESOURCES} == {
        "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10,
        "backup_gigabytes": 1000, "groups": 10, "per_volume_gigabytes": -1}
    # the __DEFAULT__ type's per-type resources, unlimited
    assert defaults["volumes___DEFAULT__"] == -1
    assert defaults["gigabytes___DEFAULT__"] == -1
    assert defaults["snapshots___DEFAULT__"] == -1
    engine.update_class("default", {"volumes": 3})
    assert engine.defaults()["volumes"] == 3
    assert engine.get_limits(PROJECT)["volumes"] == 3
    assert engine.class_limits("gold")["volumes"] == 3


def test_resources_follow_volume_types(env: Any) -> None:
    engine, db = env
    _type(db, "lvm")
    names = engine.resources()
    assert names[:len(quotas.BASE_RESOURCES)] == list(quotas.BASE_RESOURCES)
    assert {"volumes_lvm", "gigabytes_lvm", "snapshots_lvm"} <= set(names)


def test_usage_sums_volumes_snapshots_backups_per_type(env: Any) -> None:
    engine, db = env
    lvm = _type(db, "lvm")
    v1 = _volume(db, 5)
    v2 = _volume(db, 7, type_id=lvm)
    _volume(db, 100, use_quota=False)  # a temporary volume: not counted
    _volume(db, 50, project="other")
    _snapshot(db, v1, 5)
    _snapshot(db, v2, 7)  # no type of its own: its volume's
    _backup(db, 5)
    _backup(db, 7)
    used = engine.get_usage(PROJECT)
    assert used["volumes"] == 2
    assert used["snapshots"] == 2
    assert used["gigabytes"] == 5 + 7 + 5 + 7
    assert (used["backups"], used["backup_gigabytes"]) == (2, 12)
    assert (used["volumes_lvm"], used["gigabytes_lvm"], used["snapshots_lvm"]) == (1, 14, 1)
    assert used["volumes___DEFAULT__"] == 1
    assert used["groups"] == 0


def test_show_with_and_without_usage(env: Any) -> None:
    engine, db = env
    _volume(db, 4)
    shown = engine.show(PROJECT)
    assert shown["id"] == PROJECT
    assert shown["volumes"] == 10 and shown["gigabytes"] == 1000
    usage = engine.show(PROJECT, usage=True)
    assert usage["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0}
    assert usage["gigabytes"] == {"limit": 1000, "in_use": 4, "reserved": 0}
    assert usage["backups"] == {"limit": 10, "in_use": 0, "reserved": 0}


def test_update_then_delete_reverts_to_defaults(env: Any) -> None:
    engine, _ = env
    result = engine.update(PROJECT, {"volumes": 2, "gigabytes": "20",
                                     "volumes___DEFAULT__": 1})
    assert (result["volumes"], result["gigabytes"], result["volumes___DEFAULT__"]) == (
        2, 20, 1)
    assert "id" not in result
    assert engine.get_limits("other")["volumes"] == 10
    engine.delete(PROJECT)
    assert engine.get_limits(PROJECT)["volumes"] == 10


@pytest.mark.parametrize("values", [{"bogus": 1}, {"volumes": -2}, {"volumes": "x"},
                                    {"volumes": True}, {"volumes": 1.5}])
def test_update_rejects_bad_input(env: Any, values: dict[str, Any]) -> None:
    engine, _ = env
    with pytest.raises(exception.InvalidInput) as err:
        engine.update(PROJECT, values)
    assert err.value.code == 400


def test_update_below_usage_only_with_validation(env: Any) -> None:
    engine, db = env
    _volume(db, 1)
    _volume(db, 1)
    with pytest.raises(exception.QuotaBelowUsage):
        engine.update(PROJECT, {"volumes": 1}, skip_validation=False)
    assert engine.update(PROJECT, {"volumes": 1})["volumes"] == 1


def test_check_volume_count_message(env: Any) -> None:
    engine, db = env
    engine.update(PROJECT, {"volumes": 1})
    engine.check(PROJECT, quotas.volume_deltas(1, "__DEFAULT__"))
    _volume(db, 1)
    with pytest.raises(exception.VolumeLimitExceeded) as err:
        engine.check(PROJECT, quotas.volume_deltas(1, "__DEFAULT__"))
    assert err.value.code == 413
    assert str(err.value) == ("VolumeLimitExceeded: Maximum number of volumes allowed (1) "
                              "exceeded for quota 'volumes'.")


def test_check_gigabytes_message(env: Any) -> None:
    engine, db = env
    engine.update(PROJECT, {"gigabytes": 5})
    _volume(db, 3)
    with pytest.raises(exception.VolumeSizeExceedsAvailableQuota) as err:
        engine.check(PROJECT, quotas.volume_deltas(4, None))
    assert err.value.code == 413
    assert str(err.value) == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested 4G, quota is 5G and 3G has been consumed.")
    engine.check(PROJECT, quotas.volume_deltas(2, None))  # exactly at the limit is fine


def test_check_per_type_and_snapshot_and_backup(env: Any) -> None:
    engine, db = env
    _type(db, "lvm")
    engine.update(PROJECT, {"volumes_lvm": 0, "snapshots": 0, "backup_gigabytes": 1})
    with pytest.raises(exception.VolumeLimitExceeded) as err:
        engine.check(PROJECT, quotas.volume_deltas(1, "lvm"))
    assert "for quota 'volumes_lvm'" in str(err.value)
    engine.check(PROJECT, quotas.volume_deltas(1, "__DEFAULT__"))
    with pytest.raises(exception.SnapshotLimitExceeded):
        engine.check(PROJECT, quotas.snapshot_deltas(1, None))
    with pytest.raises(exception.VolumeBackupSizeExceedsAvailableQuota):
        engine.check(PROJECT, quotas.backup_deltas(2))


def test_check_ignores_unlimited_and_shrinking(env: Any) -> None:
    engine, _ = env
    engine.update(PROJECT, {"gigabytes": -1, "volumes": 0})
    engine.check(PROJECT, {"gigabytes": 10 ** 6})
    engine.check(PROJECT, {"volumes": -1})


def test_per_volume_gigabytes(env: Any) -> None:
    engine, _ = env
    engine.check_volume_size(PROJECT, 10 ** 6)
    engine.update(PROJECT, {"per_volume_gigabytes": 5})
    engine.check_volume_size(PROJECT, 5)
    with pytest.raises(exception.VolumeSizeExceedsLimit) as err:
        engine.check_volume_size(PROJECT, 6)
    assert err.value.code == 413
    assert "Requested volume size 6G is larger than maximum allowed limit 5G." in str(
        err.value)


def test_reserve_serialises_check_and_create(env: Any) -> None:
    """Two threads racing for the last volume: exactly one gets it."""
    engine, db = env
    engine.update(PROJECT, {"volumes": 1})
    results: list[str] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            with engine.reserve(PROJECT, quotas.volume_deltas(1, None)):
                _volume(db, 1)
            results.append("ok")
        except exception.VolumeLimitExceeded:
            results.append("over")

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == ["ok", "over"]
    assert engine.get_usage(PROJECT)["volumes"] == 1


def test_absolute_limits(env: Any) -> None:
    engine, db = env
    v = _volume(db, 2)
    _snapshot(db, v, 2)
    _backup(db, 2)
    assert engine.absolute_limits(PROJECT) == {
        "maxTotalVolumes": 10, "maxTotalSnapshots": 10, "maxTotalVolumeGigabytes": 1000,
        "maxTotalBackups": 10, "maxTotalBackupGigabytes": 1000, "totalVolumesUsed": 1,
        "totalGigabytesUsed": 4, "totalSnapshotsUsed": 1, "totalBackupsUsed": 1,
        "totalBackupGigabytesUsed": 2}


def test_type_rename_and_delete_follow_limits(env: Any) -> None:
    engine, db = env
    _type(db, "lvm")
    engine.update(PROJECT, {"volumes_lvm": 3})
    engine.store.rename_type("lvm", "fast")
    assert engine.store.get_project(PROJECT) == {"volumes_fast": 3}
    engine.store.delete_type("fast")
    assert engine.store.get_project(PROJECT) == {}


def test_quota_errors_survive_a_rebuild(env: Any) -> None:
    """oslo.messaging rebuilds a remote error from its args: no double prefix."""
    err = exception.VolumeLimitExceeded(allowed=1, name="volumes")
    again = exception.VolumeLimitExceeded(*err.args)
    assert str(again) == str(err)


def test_limits_for_is_get_limits_for_those_resources(env: Any) -> None:
    """A create reads only the limits it checks, in one query: the same values."""
    engine, db = env
    _type(db, "lvm")
    wanted = ["per_volume_gigabytes", "volumes", "gigabytes", "volumes_lvm",
              "gigabytes_lvm", "backups"]
    assert engine.limits_for(PROJECT, wanted) == {
        r: engine.get_limits(PROJECT)[r] for r in wanted}
    engine.update_class("default", {"volumes": 4, "gigabytes_lvm": 40})
    engine.update(PROJECT, {"gigabytes": 90, "volumes_lvm": 2})
    engine.update("other", {"volumes": 1})
    limits = engine.limits_for(PROJECT, wanted)
    assert limits == {r: engine.get_limits(PROJECT)[r] for r in wanted}
    assert limits == {"per_volume_gigabytes": -1, "volumes": 4, "gigabytes": 90,
                      "volumes_lvm": 2, "gigabytes_lvm": 40, "backups": 10}
    _volume(db, 50)
    engine.check(PROJECT, {"gigabytes": 40}, limits)
    with pytest.raises(exception.VolumeSizeExceedsAvailableQuota):
        engine.check(PROJECT, {"gigabytes": 41}, limits)
    engine.update(PROJECT, {"per_volume_gigabytes": 5})
    with pytest.raises(exception.VolumeSizeExceedsLimit):
        engine.check_volume_size(PROJECT, 6, engine.limits_for(PROJECT, wanted))
    engine.check_volume_size(PROJECT, 6, limits)  # the limits the caller read

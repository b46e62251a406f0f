"""The snapshot and volume type stores on a real migrated SQLite database:
rows in, dicts out, compare-and-set statuses, metadata, paging and the
visibility of private types."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from common.db import engine as db_engine
from common.db import migration
from blockstorage import exception
from blockstorage.cmd import manage
from blockstorage.db import models
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = os.path.join(str(tmp_path_factory.mktemp("bs-b3-template")), "bs.sqlite")
    migration.sync(manage.MIGRATIONS, "sqlite:///" + path)
    return path


@pytest.fixture
def db(tmp_path: Any, template: str) -> Iterator[db_engine.Database]:
    path = os.path.join(str(tmp_path), "bs.sqlite")
    shutil.copy(template, path)
    database = db_engine.Database(db_engine.create_engine("sqlite:///" + path))
    try:
        yield database
    finally:
        database.dispose()


def _volume(db: db_engine.Database, project: str = "p1", **values: Any) -> dict[str, Any]:
    row = {"project_id": project, "user_id": "u1", "size": 1, "status": "available",
           "volume_type_id": models.DEFAULT_TYPE_ID, "host": "node@file#pool"}
    row.update(values)
    return volumes_db.VolumeStore(db).create(row)


def _snapshot(store: snapshots_db.SnapshotStore, volume: dict[str, Any],
              **values: Any) -> dict[str, Any]:
    row = {"project_id": volume["project_id"], "user_id": "u1", "volume_id": volume["id"],
           "size": volume["size"], "status": "creating"}
    row.update(values)
    return store.create(row, metadata=values.pop("metadata", None))


# -- snapshots ------------------------------------------------------------------------


def test_snapshot_create_get_and_metadata(db: db_engine.Database) -> None:
    store = snapshots_db.SnapshotStore(db)
    volume = _volume(db)
    snap = store.create({"project_id": "p1", "user_id": "u1", "volume_id": volume["id"],
                         "size": 1, "status": "creating", "name": "s"},
                        metadata={"a": "1"})
    got = store.get(snap["id"])
    assert got["metadata"] == {"a": "1"} and got["progress"] == "0%"
    assert got["created_at"] and got["updated_at"] is None
    assert store.set_metadata(snap["id"], {"b": "2"}) == {"a": "1", "b": "2"}
    assert store.set_metadata(snap["id"], {"c": "3"}, replace=True) == {"c": "3"}
    store.delete_metadata(snap["id"], "c")
    assert store.get(snap["id"])["metadata"] == {}
    with pytest.raises(exception.SnapshotMetadataNotFound):
        store.delete_metadata(snap["id"], "c")
    with pytest.raises(exception.SnapshotNotFound):
        store.get("nope")


def test_snapshot_compare_and_set(db: db_engine.Database) -> None:
    store = snapshots_db.SnapshotStore(db)
    snap = _snapshot(store, _volume(db))
    moved = store.update(snap["id"], {"status": "available"}, expected_status=["creating"])
    assert moved["status"] == "available" and moved["updated_at"]
    with pytest.raises(exception.InvalidSnapshotStatus) as err:
        store.update(snap["id"], {"status": "deleting"}, expected_status=["creating"])
    assert err.value.code == 400 and "available" in err.value.message
    with pytest.raises(ValueError):
        store.update(snap["id"], {"id": "x"})
    store.delete(snap["id"])
    with pytest.raises(exception.SnapshotNotFound):
        store.delete(snap["id"])


def test_snapshot_list_filters_sort_and_paging(db: db_engine.Database) -> None:
    store = snapshots_db.SnapshotStore(db)
    volume, other = _volume(db), _volume(db, project="p2")
    made = [_snapshot(store, volume, name="s%d" % i) for i in range(3)]
    _snapshot(store, other, name="theirs")
    mine = store.get_all(snapshots_db.Query(project_id="p1"))
    # Newest first by default.
    assert [s["id"] for s in mine] == [s["id"] for s in reversed(made)]
    assert [s["name"] for s in store.get_all(snapshots_db.Query(
        project_id="p1", listing=snapshots_db.Listing(sort=(("name", "asc"),))))] == \
        ["s0", "s1", "s2"]
    after = store.get_all(snapshots_db.Query(
        project_id="p1", listing=snapshots_db.Listing(marker=made[1]["id"])))
    assert [s["id"] for s in after] == [made[0]["id"]]
    page = store.get_all(snapshots_db.Query(
        project_id="p1", listing=snapshots_db.Listing(offset=2, limit=3)))
    assert len(page) == 1
    assert store.get_all(snapshots_db.Query(name="theirs"))[0]["project_id"] == "p2"
    assert store.count(snapshots_db.Query(statuses=["creating"])) == 4
    with pytest.raises(exception.MarkerNotFound) as err:
        store.get_all(snapshots_db.Query(listing=snapshots_db.Listing(marker="nope")))
    assert err.value.code == 404


# -- volume types -----------------------------------------------------------------------


def test_default_type_exists_and_create_conflicts(db: db_engine.Database) -> None:
    store = types_db.TypeStore(db)
    default = store.get_by_name(models.DEFAULT_TYPE_NAME)
    assert default["id"] == models.DEFAULT_TYPE_ID and default["is_public"]
    made = store.create("gold", "fast", extra_specs={"volume_backend_name": "file"})
    assert store.get_by_name_or_id("gold")["id"] == made["id"]
    assert store.get_by_name_or_id(made["id"])["extra_specs"] == {
        "volume_backend_name": "file"}
    with pytest.raises(exception.VolumeTypeExists) as err:
        store.create("gold")
    assert err.value.code == 409
    with pytest.raises(exception.VolumeTypeNotFound):
        store.get_by_name_or_id("silver")


def test_private_type_visibility_and_access(db: db_engine.Database) -> None:
    store = types_db.TypeStore(db)
    private = store.create("secret", is_public=False)
    with pytest.raises(exception.VolumeTypeNotFound):
        store.get(private["id"], "p1")
    assert private["id"] not in [t["id"] for t in store.get_all("p1", True)]
    assert store.add_access(private["id"], "p1") == ["p1"]
    with pytest.raises(exception.VolumeTypeAccessExists):
        store.add_access(private["id"], "p1")
    assert store.get(private["id"], "p1")["projects"] == ["p1"]
    assert private["id"] in [t["id"] for t in store.get_all("p1", True)]
    assert [t["id"] for t in store.get_all(None, False)] == [private["id"]]
    assert store.remove_access(private["id"], "p1") == []
    with pytest.raises(exception.VolumeTypeAccessNotFound):
        store.remove_access(private["id"], "p1")
    public = store.get_by_name(models.DEFAULT_TYPE_NAME)
    with pytest.raises(exception.InvalidVolumeType):
        store.add_access(public["id"], "p1")


def test_type_update_specs_and_delete(db: db_engine.Database) -> None:
    store = types_db.TypeStore(db)
    made = store.create("gold")
    store.create("silver")
    assert store.update(made["id"], {"description": "d", "is_public": False})[
        "description"] == "d"
    with pytest.raises(exception.VolumeTypeExists):
        store.update(made["id"], {"name": "silver"})
    assert store.set_extra_specs(made["id"], {"a": "1", "b": "2"}) == {"a": "1", "b": "2"}
    assert store.set_extra_specs(made["id"], {"a": "3"}) == {"a": "3", "b": "2"}
    store.delete_extra_spec(made["id"], "a")
    with pytest.raises(exception.VolumeTypeExtraSpecsNotFound):
        store.delete_extra_spec(made["id"], "a")
    _volume(db, volume_type_id=made["id"])
    assert store.in_use(made["id"])
    with pytest.raises(exception.VolumeTypeInUse):
        store.delete(made["id"])
    silver = store.get_by_name("silver")
    store.delete(silver["id"])
    with pytest.raises(exception.VolumeTypeNotFound):
        store.get(silver["id"])


def test_type_reads_match_the_orm_rows(db: db_engine.Database) -> None:
    """get, get_by_name and get_all read rows; they say what the ORM objects say."""
    store = types_db.TypeStore(db)
    gold = store.create("gold", "d", is_public=False, extra_specs={"b": "2", "a": "1"},
                        projects=["p2", "p1"])
    silver = store.create("silver", extra_specs={"volume_backend_name": "file"})

    def orm(type_id: str) -> dict[str, Any]:
        with db.reader() as session:
            row = session.get(models.VolumeType, type_id)
            assert row is not None
            return types_db.to_dict(row)

    for vtype in (gold, silver):
        assert store.get(vtype["id"]) == orm(vtype["id"]) == vtype
        assert store.get_by_name(vtype["name"]) == orm(vtype["id"])
    assert store.get(gold["id"], "p1") == store.get_by_name("gold", "p2") == orm(gold["id"])
    assert gold["projects"] == ["p1", "p2"] and list(gold["extra_specs"]) == ["b", "a"]
    with pytest.raises(exception.VolumeTypeNotFound):
        store.get(gold["id"], "p3")
    with pytest.raises(exception.VolumeTypeNotFoundByName):
        store.get_by_name("gold", "p3")
    assert store.get_by_name("silver", "p3") == orm(silver["id"])
    listed = store.get_all(None, None, snapshots_db.Listing(sort=(("name", "asc"),)))
    assert listed == [orm(t["id"]) for t in listed]
    assert [t["name"] for t in listed] == ["__DEFAULT__", "gold", "silver"]

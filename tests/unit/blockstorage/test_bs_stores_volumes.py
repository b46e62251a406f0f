"""The volume store's SQL-expression reads and writes (``load``, ``create`` with
RETURNING, ``update``/``change``) on a real migrated SQLite database, checked
against what the ORM objects of the same rows say (the dicts the store built
from them before it read rows instead)."""
from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from common.db import engine as db_engine
from common.db import migration
from blockstorage import exception
from blockstorage.cmd import manage
from blockstorage.db import attachments as attachments_db
from blockstorage.db import models
from blockstorage.db import types as types_db
from blockstorage.db import volumes as volumes_db


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = os.path.join(str(tmp_path_factory.mktemp("bs-volumes-template")), "bs.sqlite")
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


def orm_dict(db: db_engine.Database, volume_id: str) -> dict[str, Any]:
    """The volume dict as built from its ORM object and relationships."""
    with db.reader() as session:
        row = session.get(models.Volume, volume_id)
        assert row is not None
        data: dict[str, Any] = {}
        for column in models.Volume.__table__.columns:
            value = getattr(row, column.name)
            data[column.name] = (volumes_db.isotime(value)
                                 if isinstance(value, datetime.datetime) else value)
        data["metadata"] = {m.key: m.value for m in row.metadata_items}
        data["admin_metadata"] = {m.key: m.value for m in row.admin_metadata}
        data["glance_metadata"] = {m.key: m.value for m in row.glance_metadata}
        data["attachments"] = [volumes_db._attachment_dict(a) for a in
                               sorted(row.attachments, key=lambda a: (a.created_at, a.id))]
        vtype = session.get(models.VolumeType, row.volume_type_id or "")
        data["volume_type_name"] = vtype.name if vtype is not None else None
        return data


def _values(**extra: Any) -> dict[str, Any]:
    return {"project_id": "p1", "user_id": "u1", "size": 2, "status": "creating",
            "volume_type_id": models.DEFAULT_TYPE_ID, **extra}


def test_create_returns_what_is_stored(db: db_engine.Database) -> None:
    store = volumes_db.VolumeStore(db)
    gold = types_db.TypeStore(db).create("gold")
    created = store.create(_values(name="v", volume_type_id=gold["id"]),
                           metadata={"b": "2", "a": "1"}, admin_metadata={"readonly": "True"},
                           glance_metadata={"image_id": "i1", "min_disk": "1"})
    assert created == store.get(created["id"]) == orm_dict(db, created["id"])
    assert list(created["metadata"]) == ["b", "a"]
    assert created["volume_type_name"] == "gold"
    assert created["shared_targets"] is True and created["attach_status"] == "detached"
    assert created["created_at"] and created["attachments"] == []
    untyped = store.create(_values(volume_type_id=None))
    assert untyped == orm_dict(db, untyped["id"]) and untyped["volume_type_name"] is None


def test_load_many_keeps_each_volumes_own_items(db: db_engine.Database) -> None:
    store = volumes_db.VolumeStore(db)
    attachments = attachments_db.AttachmentStore(db)
    first = store.create(_values(), metadata={"k": "1"})
    second = store.create(_values(project_id="p2"), glance_metadata={"os": "x"})
    store.set_metadata(first["id"], {"later": "yes"})
    store.set_metadata(second["id"], {"readonly": "False"}, kind="admin_metadata")
    now = datetime.datetime(2026, 1, 1, 12, 0, 0, 5)
    for instance, seconds in (("i1", 1), ("i2", 0)):  # listed by creation, not by write
        attachments.create(first["id"], {
            "instance_uuid": instance, "attach_status": "reserved",
            "created_at": now + datetime.timedelta(seconds=seconds)})
    with db.reader() as session:
        found = volumes_db.load(session, [second["id"], "missing", first["id"]])
    assert set(found) == {first["id"], second["id"]}
    for volume_id in (first["id"], second["id"]):
        assert found[volume_id] == orm_dict(db, volume_id)
    assert found[first["id"]]["metadata"] == {"k": "1", "later": "yes"}
    assert [a["instance_uuid"] for a in found[first["id"]]["attachments"]] == ["i2", "i1"]
    assert found[second["id"]]["admin_metadata"] == {"readonly": "False"}
    with db.reader() as session:
        assert volumes_db.load(session, []) == {}


def test_list_is_in_order_and_complete(db: db_engine.Database) -> None:
    store = volumes_db.VolumeStore(db)
    ids = [store.create(_values(name="v%d" % n))["id"] for n in range(3)]
    listed = store.get_all(volumes_db.Query(sort=(("name", "asc"),)))
    assert [v["id"] for v in listed] == ids
    assert listed == [orm_dict(db, i) for i in ids]


def test_update_and_change_compare_and_set(db: db_engine.Database) -> None:
    store = volumes_db.VolumeStore(db)
    volume = store.create(_values(), metadata={"k": "v"})
    assert store.change(volume["id"], {"host": "h@b#p"}, expected_status=["creating"]) is None
    after = store.get(volume["id"])
    assert after["host"] == "h@b#p" and after["metadata"] == {"k": "v"}
    assert after["updated_at"] is not None
    with pytest.raises(exception.InvalidVolumeStatus) as err:
        store.change(volume["id"], {"status": "available"}, expected_status=["deleting"])
    assert "creating" in str(err.value)
    with pytest.raises(exception.InvalidVolumeStatus):
        store.change(volume["id"], {"status": "available"}, expected_status=[])
    with pytest.raises(exception.InvalidVolumeStatus):
        store.update(volume["id"], {"status": "available"},
                     expected_attach_status=["attached"])
    updated = store.update(volume["id"], {"status": "available"},
                           expected_status=["creating"], expected_attach_status=["detached"])
    assert updated == orm_dict(db, volume["id"]) and updated["status"] == "available"
    with pytest.raises(exception.VolumeNotFound):
        store.change("missing", {"status": "error"}, expected_status=["creating"])
    with pytest.raises(exception.VolumeNotFound):
        store.update("missing", {"status": "error"})
    with pytest.raises(ValueError):
        store.change(volume["id"], {"id": "other"})

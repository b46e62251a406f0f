"""The attachment and backup stores on a real migrated SQLite database:
attachments carry their volume's project, statuses are compare-and-set, backups
know their dependents and the parent of an incremental backup."""
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
from blockstorage.db import attachments as attachments_db
from blockstorage.db import backups as backups_db
from blockstorage.db import models
from blockstorage.db import volumes as volumes_db


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = os.path.join(str(tmp_path_factory.mktemp("bs-b3-template2")), "bs.sqlite")
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


def _volume(db: db_engine.Database, project: str = "p1") -> dict[str, Any]:
    return volumes_db.VolumeStore(db).create({
        "project_id": project, "user_id": "u1", "size": 2, "status": "available",
        "volume_type_id": models.DEFAULT_TYPE_ID, "host": "node@file#pool"})


def _backup(store: backups_db.BackupStore, volume: dict[str, Any],
            **values: Any) -> dict[str, Any]:
    row = {"project_id": volume["project_id"], "user_id": "u1", "volume_id": volume["id"],
           "size": volume["size"], "status": "available"}
    row.update(values)
    return store.create(row)


# -- attachments ------------------------------------------------------------------------


def test_attachment_lifecycle(db: db_engine.Database) -> None:
    store = attachments_db.AttachmentStore(db)
    volume = _volume(db)
    att = store.create(volume["id"], {"instance_uuid": "i1", "attach_status": "reserved"})
    assert att["project_id"] == "p1" and att["attach_mode"] == "rw"
    info = {"driver_volume_type": "file", "device_path": "/x"}
    updated = store.update(att["id"], {"connector": {"host": "h"}, "connection_info": info,
                                       "attach_status": "attaching"},
                           expected_status=["reserved"])
    assert updated["connection_info"] == info and updated["connector"] == {"host": "h"}
    with pytest.raises(exception.InvalidAttachmentStatus) as err:
        store.update(att["id"], {"attach_status": "attached"}, expected_status=["reserved"])
    assert err.value.code == 400
    # The volume's own view sees the row too.
    assert volumes_db.VolumeStore(db).get(volume["id"])["attachments"][0]["id"] == att["id"]
    store.delete(att["id"])
    with pytest.raises(exception.VolumeAttachmentNotFound):
        store.get(att["id"])
    with pytest.raises(exception.VolumeNotFound):
        store.create("nope", {"attach_status": "reserved"})


def test_attachment_lists(db: db_engine.Database) -> None:
    store = attachments_db.AttachmentStore(db)
    mine, theirs = _volume(db), _volume(db, project="p2")
    first = store.create(mine["id"], {"instance_uuid": "i1", "attach_status": "attached"})
    second = store.create(mine["id"], {"instance_uuid": "i2", "attach_status": "reserved"})
    store.create(theirs["id"], {"instance_uuid": "i3", "attach_status": "reserved"})
    assert [a["id"] for a in store.attachments_of(mine["id"])] == [first["id"], second["id"]]
    assert [a["id"] for a in store.attachments_of(mine["id"], ["attached"])] == [first["id"]]
    assert {a["instance_uuid"] for a in store.get_all(
        attachments_db.Query(project_id="p1"))} == {"i1", "i2"}
    assert [a["id"] for a in store.get_all(
        attachments_db.Query(instance_uuid="i2"))] == [second["id"]]


# -- backups ----------------------------------------------------------------------------


def test_backup_create_dependents_and_parent(db: db_engine.Database) -> None:
    store = backups_db.BackupStore(db)
    volume = _volume(db)
    assert store.latest_available(volume["id"]) is None
    full = _backup(store, volume, name="full", status="available")
    _backup(store, volume, name="broken", status="error")
    parent = store.latest_available(volume["id"])
    assert parent is not None and parent["id"] == full["id"]
    assert not parent["has_dependent_backups"]
    incr = _backup(store, volume, parent_id=full["id"], is_incremental=True)
    assert store.get(full["id"])["has_dependent_backups"]
    assert not store.get(incr["id"])["has_dependent_backups"]
    assert store.get(incr["id"])["metadata"] == {}
    with pytest.raises(exception.BackupNotFound):
        store.get("nope")


def test_backup_update_metadata_list_and_delete(db: db_engine.Database) -> None:
    store = backups_db.BackupStore(db)
    volume = _volume(db)
    made = [_backup(store, volume, name="b%d" % i, status="creating") for i in range(3)]
    _backup(store, _volume(db, project="p2"), name="other")
    moved = store.update(made[0]["id"], {"status": "available"}, expected_status=["creating"])
    assert moved["status"] == "available"
    with pytest.raises(exception.InvalidBackupStatus):
        store.update(made[0]["id"], {"status": "deleting"}, expected_status=["error"])
    assert store.set_metadata(made[0]["id"], {"k": "v"}) == {"k": "v"}
    assert store.get(made[0]["id"])["metadata"] == {"k": "v"}
    listed = store.get_all(backups_db.Query(project_id="p1"))
    assert [b["name"] for b in listed] == ["b2", "b1", "b0"]
    assert store.count(backups_db.Query(statuses=["creating"])) == 2
    store.delete(made[1]["id"])
    assert store.count(backups_db.Query(project_id="p1")) == 2


def test_bs_listing_page_skips_a_row_deleted_meanwhile(db: db_engine.Database) -> None:
    """A listing that races a delete (ids read, then the row gone) lists the rest."""
    from blockstorage.db import rows_in_order

    first, second = _volume(db), _volume(db)
    with db.reader() as session:
        rows = rows_in_order(session, models.Volume,
                             [second["id"], "vanished-id", first["id"]])
        assert [r.id for r in rows] == [second["id"], first["id"]]
        assert rows_in_order(session, models.Volume, []) == []

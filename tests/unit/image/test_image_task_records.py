"""The registry's image tasks: the migration that adds them (old databases
upgrade), their records, their time to live, and the failure of tasks stranded
by a dead import (the registry's periodic reset, also run at its start)."""
from __future__ import annotations

import datetime
import os
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from alembic import autogenerate
from alembic.runtime import migration as alembic_migration
from oslo_config import cfg

from common import context
from common.db import engine
from common.db import migration
from common import rpc_service
from image import conf as image_conf
from image import exception
from image.cmd import manage
from image.registry import manager
from image.registry import rpcapi
from image.registry.db import api as db_api
from image.registry.db import models
from image.registry.db import tasks as tasks_db

CTXT = context.admin_context()


@pytest.fixture()
def url(tmp_path: Any) -> str:
    return "sqlite:///" + os.path.join(str(tmp_path), "image.sqlite")


@pytest.fixture()
def db(url: str) -> Iterator[engine.Database]:
    migration.sync(manage.MIGRATIONS, url)
    database = engine.Database(engine.create_engine(url))
    yield database
    database.dispose()


@pytest.fixture()
def images(db: engine.Database) -> db_api.ImageDB:
    return db_api.ImageDB(db)


@pytest.fixture()
def tasks(db: engine.Database) -> tasks_db.TaskDB:
    return tasks_db.TaskDB(db)


def _image(images: db_api.ImageDB, status: str = "importing") -> str:
    return str(images.create(CTXT, {"status": status, "visibility": "private",
                                    "owner": "p"})["id"])


def _task(tasks: tasks_db.TaskDB, image_id: str) -> dict[str, Any]:
    return tasks.create(CTXT, {"image_id": image_id, "type": "api_image_import",
                               "owner": "p", "request_id": "req-1", "user_id": "u",
                               "input": {"import_req": {"method": {"name": "glance-direct"}}}})


def _age(db: engine.Database, table: str, row_id: str, seconds: int) -> None:
    """Pretend the row was last touched ``seconds`` ago."""
    with db.writer() as session:
        session.execute(sa.text("UPDATE %s SET updated_at = :t WHERE id = :i" % table),
                        {"t": datetime.datetime.utcnow() - datetime.timedelta(seconds=seconds),
                         "i": row_id})


def _when(stamp: str) -> datetime.datetime:
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def test_an_old_database_upgrades_and_matches_the_models(url: str) -> None:
    migration.sync(manage.MIGRATIONS, url, revision="0001")
    raw = sa.create_engine(url)
    try:
        with raw.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO images (id, status, visibility, protected, os_hidden, min_disk,"
                " min_ram, created_at, updated_at) VALUES ('i1', 'active', 'public', 0, 0,"
                " 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        migration.sync(manage.MIGRATIONS, url)
        migration.sync(manage.MIGRATIONS, url)  # idempotent
        assert migration.current(raw) == {"0002"}
        with raw.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM images")).scalars().all() == ["i1"]
            assert conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar() == 0
            diff = autogenerate.compare_metadata(
                alembic_migration.MigrationContext.configure(conn), models.Base.metadata)
        assert diff == []
    finally:
        raw.dispose()


def test_task_lifecycle(images: db_api.ImageDB, tasks: tasks_db.TaskDB) -> None:
    image_id = _image(images)
    with pytest.raises(exception.ImageNotFound):
        _task(tasks, "no-such-image")
    task = _task(tasks, image_id)
    assert task["status"] == "pending" and task["expires_at"] is None
    assert task["input"] == {"import_req": {"method": {"name": "glance-direct"}}}
    assert (task["owner"], task["request_id"], task["user_id"]) == ("p", "req-1", "u")
    assert task["message"] == "" and task["result"] is None
    running = tasks.update(CTXT, task["id"], {"status": "processing"}, ["pending"], 3600)
    assert running["status"] == "processing" and running["expires_at"] is None
    with pytest.raises(exception.InvalidTaskStatusTransition):
        tasks.update(CTXT, task["id"], {"status": "processing"}, ["pending"], 3600)
    done = tasks.update(CTXT, task["id"], {"status": "success",
                                           "result": {"image_id": image_id}},
                        ["pending", "processing"], 7200)
    assert done["result"] == {"image_id": image_id}
    assert _when(done["expires_at"]) - _when(done["updated_at"]) == datetime.timedelta(
        hours=2)
    with pytest.raises(exception.TaskNotFound):
        tasks.update(CTXT, "nope", {"status": "failure"}, None, 1)


def test_list_is_newest_first_and_drops_expired_tasks(images: db_api.ImageDB,
                                                      tasks: tasks_db.TaskDB,
                                                      db: engine.Database) -> None:
    image_id, other = _image(images), _image(images)
    first, second = _task(tasks, image_id), _task(tasks, image_id)
    _task(tasks, other)
    with db.writer() as session:  # created a minute apart
        session.execute(sa.text("UPDATE tasks SET created_at = :t WHERE id = :i"),
                        {"t": datetime.datetime.utcnow() - datetime.timedelta(minutes=1),
                         "i": first["id"]})
    assert [t["id"] for t in tasks.list_by_image(CTXT, image_id)] == [second["id"],
                                                                      first["id"]]
    tasks.update(CTXT, first["id"], {"status": "failure", "message": "x"}, None, -1)
    assert [t["id"] for t in tasks.list_by_image(CTXT, image_id)] == [second["id"]]
    assert tasks.purge_expired(CTXT) == 1
    assert tasks.purge_expired(CTXT) == 0


def test_tasks_go_with_their_image(images: db_api.ImageDB, tasks: tasks_db.TaskDB) -> None:
    image_id = _image(images, "uploading")
    task = _task(tasks, image_id)
    images.delete(CTXT, image_id)
    assert tasks.list_by_image(CTXT, image_id) == []
    with pytest.raises(exception.TaskNotFound):
        tasks.update(CTXT, task["id"], {"status": "success"}, None, 1)


def test_only_tasks_of_dead_imports_fail(images: db_api.ImageDB, tasks: tasks_db.TaskDB,
                                         db: engine.Database) -> None:
    reset = _image(images, "uploading")   # the registry already put it back
    running = _image(images, "importing")  # a long import, still touched
    fresh = _image(images, "uploading")   # pending a moment ago
    dead, alive, young = _task(tasks, reset), _task(tasks, running), _task(tasks, fresh)
    for task_id in (dead["id"], alive["id"]):
        _age(db, "tasks", task_id, 600)
    assert tasks.fail_stalled(CTXT, 300, 3600) == [dead["id"]]
    (failed,) = tasks.list_by_image(CTXT, reset)
    assert failed["status"] == "failure" and "Import the image again" in failed["message"]
    assert failed["expires_at"] is not None
    assert tasks.list_by_image(CTXT, running)[0]["status"] == "pending"
    assert tasks.list_by_image(CTXT, fresh)[0]["id"] == young["id"]
    assert tasks.list_by_image(CTXT, fresh)[0]["status"] == "pending"


def _conf(**task: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    image_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    for name, value in task.items():
        conf.set_override(name, value, group="task")
    return conf


def test_registry_start_fails_the_task_of_a_dead_import(images: db_api.ImageDB,
                                                        db: engine.Database) -> None:
    """After a restart, an import that died with its API process: its image goes
    back to uploading (as before) and its task to failure, at once."""
    registry = manager.RegistryManager(images, _conf(task_time_to_live=3))
    image_id = _image(images, "importing")
    task = registry.task_create(CTXT, {"image_id": image_id, "type": "api_image_import"})
    registry.task_update(CTXT, task["id"], {"status": "processing"}, ["pending"])
    _age(db, "images", image_id, 600)
    _age(db, "tasks", task["id"], 600)
    spec = [s for name, _m, s in rpc_service.periodic_tasks(registry)
            if name == "_reset_stalled_uploads"]
    assert spec and spec[0].run_immediately
    registry._reset_stalled_uploads(CTXT)
    assert images.get(CTXT, image_id)["status"] == "uploading"
    (failed,) = registry.task_list(CTXT, image_id)
    assert failed["status"] == "failure"
    assert _when(failed["expires_at"]) - _when(failed["updated_at"]) == datetime.timedelta(
        hours=3)


def test_default_time_to_live_is_glances(images: db_api.ImageDB) -> None:
    registry = manager.RegistryManager(images)
    task = registry.task_create(CTXT, {"image_id": _image(images), "type": "x"})
    done = registry.task_update(CTXT, task["id"], {"status": "success"})
    assert _when(done["expires_at"]) - _when(done["updated_at"]) == datetime.timedelta(
        hours=48)
    assert _conf().task.task_time_to_live == 48


class _Prepared:
    def __init__(self, calls: list[Any], version: str) -> None:
        self.calls, self.version = calls, version

    def call(self, ctxt: Any, method: str, **kwargs: Any) -> Any:
        self.calls.append((method, self.version))
        return [] if method == "task_list" else {}


def test_task_calls_ask_for_version_1_1(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    class Client:
        def prepare(self, version: str, timeout: float) -> _Prepared:
            return _Prepared(calls, version)

    monkeypatch.setattr(rpcapi.rpc, "get_client", lambda *a, **k: Client())
    client = rpcapi.RegistryAPI(_conf())
    client.task_create(CTXT, {})
    client.task_update(CTXT, "t", {})
    client.task_list(CTXT, "i")
    client.image_get(CTXT, "i")
    assert calls == [("task_create", "1.1"), ("task_update", "1.1"), ("task_list", "1.1"),
                     ("image_get", "1.0")]

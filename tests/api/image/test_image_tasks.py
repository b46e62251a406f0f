"""GET /v2/images/{image_id}/tasks (Image API 2.12): every import records an
``api_image_import`` task that ends in success or failure; who may see them;
tasks go with their image."""
from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from image_api_helpers import DATA_PATH, Api, check_error, project

pytestmark = pytest.mark.skipif(not DATA_PATH, reason="the image data path is not written "
                                                      "yet")
ADMIN = "admin,member,reader"
DATA = bytes(range(256)) * 16
GLANCE_DIRECT = {"method": {"name": "glance-direct"}}
TASK_KEYS = {"id", "type", "status", "owner", "image_id", "request_id", "user_id", "input",
             "result", "message", "expires_at", "created_at", "updated_at", "deleted",
             "deleted_at"}


def _staged(api: Api, owner: str, **fields: Any) -> str:
    fields.setdefault("disk_format", "raw")
    fields.setdefault("container_format", "bare")
    image_id = api.create(owner, **fields)["id"]
    _stage(api, owner, image_id)
    return image_id


def _stage(api: Api, owner: str, image_id: str, data: bytes = DATA) -> None:
    api.call("PUT", "/v2/images/%s/stage" % image_id, owner, body=data,
             content_type="application/octet-stream", status=204)


def _import(api: Api, owner: str, image_id: str, user: str | None = None,
            status: int = 202) -> webtest.TestResponse:
    headers = {"X-Test-User": user} if user else None
    return api.call("POST", "/v2/images/%s/import" % image_id, owner,
                    json_body=GLANCE_DIRECT, headers=headers, status=status)


def _tasks(api: Api, caller: str | None, image_id: str, roles: str | None = None,
           status: int = 200) -> list[dict[str, Any]]:
    resp = api.call("GET", "/v2/images/%s/tasks" % image_id, caller, roles=roles,
                    status=status)
    if status != 200:
        check_error(resp, status)
        return []
    assert set(resp.json) == {"tasks"}
    return list(resp.json["tasks"])


def _ended(api: Api, owner: str, image_id: str, count: int = 1,
           timeout: float = 10.0) -> list[dict[str, Any]]:
    """The image's tasks once ``count`` of them ended (what Tempest's waiter does)."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = _tasks(api, owner, image_id)
        ended = [t for t in tasks if t["status"] in ("success", "failure")]
        if len(ended) >= count or time.monotonic() > deadline:
            assert len(ended) >= count, tasks
            return tasks
        time.sleep(0.05)


def _when(stamp: str) -> datetime.datetime:
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def test_image_without_imports_has_no_tasks(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, name="plain")["id"]
    assert _tasks(api, owner, image_id) == []
    active = api.active_image(owner, DATA)  # an upload is not a task
    assert _tasks(api, owner, active["id"]) == []


def test_import_records_a_task_that_succeeds(api: Api) -> None:
    owner = project()
    image_id = _staged(api, owner)
    resp = _import(api, owner, image_id, user="alice")
    (task,) = _ended(api, owner, image_id)
    api.wait_status(owner, image_id, "active")
    assert set(task) == TASK_KEYS
    assert task["type"] == "api_image_import"
    assert task["status"] == "success"
    assert task["image_id"] == image_id and task["owner"] == owner
    assert task["user_id"] == "alice"
    assert task["request_id"] == resp.headers["X-OpenStack-Request-ID"]
    assert task["input"]["import_req"] == GLANCE_DIRECT
    assert task["input"]["image_id"] == image_id
    assert task["result"] == {"image_id": image_id}
    assert task["deleted"] is False and task["deleted_at"] is None
    # An ended task expires [task] task_time_to_live (48 hours) after it ended.
    assert _when(task["expires_at"]) - _when(task["updated_at"]) == datetime.timedelta(
        hours=48)
    assert _when(task["created_at"]) <= _when(task["updated_at"])


def test_failed_import_task_says_why_and_newest_comes_first(api: Api) -> None:
    owner = project()
    image_id = _staged(api, owner, disk_format="qcow2")  # raw bytes: a mismatch
    _import(api, owner, image_id)
    (failed,) = _ended(api, owner, image_id)
    api.wait_status(owner, image_id, "queued")
    assert failed["status"] == "failure"
    assert failed["result"] is None
    assert "disk_format qcow2" in failed["message"]
    assert failed["expires_at"] is not None
    # Fix the format, stage and import again: a second task, listed first.
    api.patch(owner, image_id, [{"op": "replace", "path": "/disk_format", "value": "raw"}])
    _stage(api, owner, image_id)
    _import(api, owner, image_id)
    tasks = _ended(api, owner, image_id, count=2)
    assert [t["status"] for t in tasks] == ["success", "failure"]
    assert tasks[1]["id"] == failed["id"]
    assert _when(tasks[0]["created_at"]) >= _when(tasks[1]["created_at"])


def test_refused_import_records_no_task(api: Api) -> None:
    owner = project()
    image_id = api.create(owner, disk_format="raw", container_format="bare")["id"]
    _import(api, owner, image_id, status=409)  # nothing staged
    assert _tasks(api, owner, image_id) == []


def test_unknown_or_invisible_image_is_404(api: Api) -> None:
    _tasks(api, project(), "00000000-0000-0000-0000-000000000000", status=404)
    owner = project()
    private = _staged(api, owner, visibility="private")
    _import(api, owner, private)
    _ended(api, owner, private)
    _tasks(api, project(), private, status=404)
    # Without a reader role the image's own policy (image:get_image) refuses: 404 too.
    _tasks(api, owner, private, roles="nobody", status=404)
    assert len(_tasks(api, project(), private, roles=ADMIN)) == 1


def test_tasks_of_a_visible_image_are_the_owners(api: Api) -> None:
    owner = project()
    image_id = _staged(api, owner, visibility="community")
    _import(api, owner, image_id)
    _ended(api, owner, image_id)
    # Another project sees the image, but (as in Glance) not the owner's tasks.
    assert _tasks(api, project(), image_id) == []
    assert [t["owner"] for t in _tasks(api, project(), image_id, roles=ADMIN)] == [owner]


def test_deleting_the_image_removes_its_tasks(api: Api, service: Any) -> None:
    owner = project()
    image_id = _staged(api, owner)
    _import(api, owner, image_id)
    _ended(api, owner, image_id)
    api.wait_status(owner, image_id, "active")
    api.delete(owner, image_id)
    _tasks(api, owner, image_id, status=404)
    with service.db.reader() as session:
        left = session.execute(sa.text("SELECT count(*) FROM tasks WHERE image_id = :i"),
                               {"i": image_id}).scalar()
    assert left == 0


def test_versions_claim_2_12(api: Api) -> None:
    resp = api.call("GET", "/versions", None, status=200)
    current = [v["id"] for v in resp.json["versions"] if v["status"] == "CURRENT"]
    assert current == ["v2.12"]

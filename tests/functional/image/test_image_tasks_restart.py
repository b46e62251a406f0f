"""Image tasks with the real daemons: an import's task ends in success with the
registry's [task] task_time_to_live; a task stranded in ``processing`` by an
import that died with its API process is failed when the registry restarts (not
left there). Its own cloud: these tests restart the registry."""
from __future__ import annotations

import datetime
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.functional.conftest import IdentityCloud, ImageCloud


@pytest.fixture(scope="module")
def cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ImageCloud]:
    image = ImageCloud(str(tmp_path_factory.mktemp("image-tasks")), identity_cloud,
                       extra_conf="[task]\ntask_time_to_live = 3")
    yield image
    image.stop()


def _request(cloud: ImageCloud, method: str, path: str, token: str, body: Any = None,
             ctype: str = "application/json") -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(cloud.url + path, data=data, method=method,
                                 headers={"X-Auth-Token": token, "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _staged_image(cloud: ImageCloud, token: str) -> str:
    status, image = _request(cloud, "POST", "/v2/images", token,
                             {"name": "tasks", "disk_format": "raw",
                              "container_format": "bare"})
    assert status == 201, image
    status, _ = _request(cloud, "PUT", "/v2/images/%s/stage" % image["id"], token,
                         b"x" * 4096, "application/octet-stream")
    assert status == 204
    return str(image["id"])


def _tasks_when(cloud: ImageCloud, token: str, image_id: str,
                done: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = _request(cloud, "GET", "/v2/images/%s/tasks" % image_id, token)
        assert status == 200, body
        if done(body["tasks"]) or time.monotonic() > deadline:
            return list(body["tasks"])
        time.sleep(0.2)


def _when(stamp: str) -> datetime.datetime:
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def test_import_task_succeeds_with_the_configured_time_to_live(cloud: ImageCloud) -> None:
    token = cloud.token()
    image_id = _staged_image(cloud, token)
    status, _ = _request(cloud, "POST", "/v2/images/%s/import" % image_id, token,
                         {"method": {"name": "glance-direct"}})
    assert status == 202
    tasks = _tasks_when(cloud, token, image_id,
                        lambda ts: ts and ts[0]["status"] in ("success", "failure"))
    assert [t["status"] for t in tasks] == ["success"], tasks
    assert _when(tasks[0]["expires_at"]) - _when(tasks[0]["updated_at"]) == \
        datetime.timedelta(hours=3)


def test_registry_restart_fails_a_stranded_task(cloud: ImageCloud) -> None:
    token = cloud.token()
    image_id = _staged_image(cloud, token)
    # What an API process killed mid-import leaves: the image importing and its
    # task processing, neither touched for ten minutes.
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    engine = sa.create_engine("sqlite:///" + os.path.join(cloud.state, "image.sqlite"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE images SET status = 'importing', updated_at = :t "
                                 "WHERE id = :i"), {"t": old, "i": image_id})
            conn.execute(sa.text(
                "INSERT INTO tasks (id, image_id, type, status, message, input, "
                "created_at, updated_at) VALUES ('stranded-task', :i, 'api_image_import', "
                "'processing', '', 'null', :t, :t)"), {"t": old, "i": image_id})
    finally:
        engine.dispose()
    cloud.start_registry()  # stops the running one first
    cloud.wait_ready()
    tasks = _tasks_when(cloud, token, image_id, lambda ts: ts[0]["status"] != "processing")
    assert [(t["id"], t["status"]) for t in tasks] == [("stranded-task", "failure")]
    assert "Import the image again" in tasks[0]["message"]
    status, image = _request(cloud, "GET", "/v2/images/" + image_id, token)
    assert status == 200 and image["status"] == "uploading"  # its data can be imported

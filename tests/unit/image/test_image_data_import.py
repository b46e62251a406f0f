"""DataService: stage and import (glance-direct), their tasks, and the reset of
stuck images."""
from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import pytest
from oslo_config import cfg

from common import exception as common_exc
from image import data as data_mod
from image import exception
from image.store import filesystem

from tests.unit.image.data_fakes import MIB, OTHER, OWNER, FakeContext, FakeRegistry, files


def test_stage_then_import(svc: data_mod.DataService, registry: FakeRegistry,
                           conf: cfg.ConfigOpts, notes: list[Any]) -> None:
    image = registry.add()
    body = os.urandom(MIB + 7)
    svc.stage(FakeContext(), image["id"], [body[:MIB], body[MIB:]], len(body))
    stored = registry.images[image["id"]]
    assert stored["status"] == "uploading"
    assert stored["checksum"] is None
    staged = os.path.join(conf.image.staging_dir, image["id"])
    with open(staged, "rb") as handle:
        assert handle.read() == body
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()  # waits for the background import
    assert stored["status"] == "active"
    assert stored["checksum"] == hashlib.md5(body).hexdigest()
    assert stored["os_hash_value"] == hashlib.sha512(body).hexdigest()
    assert stored["size"] == stored["virtual_size"] == len(body)
    assert registry.transitions == [("queued", "uploading"), ("uploading", "importing"),
                                    ("importing", "active")]
    assert files(conf) == [stored["location"][len("file://"):]]
    assert [event for event, _ in notes] == ["image.upload", "image.activate"]
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "processing", "success"]
    assert task["type"] == "api_image_import" and task["owner"] == OWNER
    assert (task["request_id"], task["user_id"]) == ("req-" + OWNER, "user-" + OWNER)
    assert task["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    assert task["result"] == {"image_id": image["id"]}


def test_import_task_shows_progress_and_a_bad_registry_does_not_stop_it(
        svc: data_mod.DataService, registry: FakeRegistry,
        monkeypatch: pytest.MonkeyPatch) -> None:
    image = registry.add()
    body = os.urandom(3 * MIB)
    svc.stage(FakeContext(), image["id"], [body], len(body))
    monkeypatch.setattr(data_mod, "HEARTBEAT_SECONDS", 0)
    messages: list[str] = []
    real_update = registry.task_update

    def update(ctxt: Any, task_id: str, values: dict[str, Any],
               from_status: list[str] | None = None) -> dict[str, Any]:
        if "message" in values:
            messages.append(values["message"])
        return real_update(ctxt, task_id, values, from_status)

    monkeypatch.setattr(registry, "task_update", update)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    assert messages and messages[-1].startswith("Copied ") and messages[-1].endswith(" MiB")
    assert registry.task_of(image["id"])["status"] == "success"
    # A registry that keeps no tasks (an older one): the import still happens.
    other = registry.add()
    svc2 = data_mod.DataService(svc.conf, registry, svc.store, svc.images)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("UnsupportedVersion 1.1")

    monkeypatch.setattr(registry, "task_create", refuse)
    svc2.stage(FakeContext(), other["id"], [b"abc"], 3)
    svc2.import_(FakeContext(), other["id"], {"method": {"name": "glance-direct"}})
    svc2.close()
    assert registry.images[other["id"]]["status"] == "active"


def test_stage_and_import_refusals(svc: data_mod.DataService, registry: FakeRegistry,
                                   conf: cfg.ConfigOpts) -> None:
    image = registry.add()
    with pytest.raises(common_exc.Invalid):  # truncated
        svc.stage(FakeContext(), image["id"], [b"abc"], 10)
    assert files(conf) == []
    glance_direct = {"method": {"name": "glance-direct"}}
    with pytest.raises(common_exc.Conflict):
        svc.import_(FakeContext(), image["id"], glance_direct)
    svc.stage(FakeContext(), image["id"], [b"abc"], 3)
    with pytest.raises(common_exc.Invalid):
        svc.import_(FakeContext(), image["id"], {"method": {"name": "web-download"}})
    bodies: list[Any] = [{}, [], {"method": "glance-direct"}, {"method": {"name": 3}}]
    for body in bodies:
        with pytest.raises(common_exc.ValidationError):
            svc.import_(FakeContext(), image["id"], body)
    with pytest.raises(common_exc.Forbidden):
        registry.images[image["id"]]["visibility"] = "public"
        svc.import_(FakeContext(OTHER), image["id"], glance_direct)
    assert registry.images[image["id"]]["status"] == "uploading"
    with pytest.raises(common_exc.Conflict):
        svc.stage(FakeContext(), image["id"], [b"abc"], 3)
    os.unlink(os.path.join(svc.conf.image.staging_dir, image["id"]))
    with pytest.raises(common_exc.Conflict):  # the staged data is gone
        svc.import_(FakeContext(), image["id"], glance_direct)
    assert registry.images[image["id"]]["status"] == "queued"


def test_import_failure_goes_back_to_queued(svc: data_mod.DataService,
                                            registry: FakeRegistry,
                                            conf: cfg.ConfigOpts) -> None:
    image = registry.add(disk_format="qcow2")
    svc.stage(FakeContext(), image["id"], [b"not a qcow2"], None)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    assert registry.images[image["id"]]["status"] == "queued"
    assert files(conf) == []
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "processing", "failure"]
    assert task["message"].startswith("The import failed: Image data does not match")
    assert task["result"] is None


def test_import_task_hides_internal_errors(svc: data_mod.DataService,
                                           registry: FakeRegistry,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("/secret/path: disk on fire")

    monkeypatch.setattr(svc.store, "add", broken)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    svc.close()
    task = registry.task_of(image["id"])
    assert task["status"] == "failure"
    assert task["message"] == ("The import failed: an internal error occurred (request "
                               "req-%s)" % OWNER)


def test_import_that_cannot_start_fails_its_task(svc: data_mod.DataService,
                                                 registry: FakeRegistry) -> None:
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)

    def racing(image_id: str, values: dict[str, Any]) -> None:
        registry.images[image_id]["status"] = "queued"  # another request won

    registry.before_update = racing
    with pytest.raises(exception.InvalidImageStatusTransition):
        svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "failure"]
    assert task["message"].startswith("The import could not start: Image status "
                                      "transition from queued")


def test_import_reset_while_waiting_keeps_staged_data(svc: data_mod.DataService,
                                                      registry: FakeRegistry,
                                                      conf: cfg.ConfigOpts,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[Any] = []
    monkeypatch.setattr(svc._jobs, "submit", lambda fn, *args: jobs.append((fn, args)))
    image = registry.add()
    svc.stage(FakeContext(), image["id"], [b"abc"], None)
    svc.import_(FakeContext(), image["id"], {"method": {"name": "glance-direct"}})
    registry.images[image["id"]]["status"] = "uploading"  # the registry's reset
    jobs[0][0](*jobs[0][1])
    assert registry.images[image["id"]]["status"] == "uploading"
    task = registry.task_of(image["id"])
    assert task["statuses"] == ["pending", "failure"]
    assert "staged data is kept" in task["message"]
    assert files(conf) == [os.path.join(conf.image.staging_dir, image["id"])]


def test_reset_stuck_and_cleanup(svc: data_mod.DataService, registry: FakeRegistry,
                     conf: cfg.ConfigOpts) -> None:
    saving = registry.add(status="saving")
    importing, lost = registry.add(), registry.add(status="importing")
    svc.stage(FakeContext(), importing["id"], [b"abc"], None)
    registry.images[importing["id"]]["status"] = "importing"
    active = registry.add(status="active")
    ids = [saving["id"], importing["id"], lost["id"], active["id"], str(uuid.uuid4())]
    assert svc.reset_stuck(FakeContext(is_admin=True), ids) == ids[:3]
    assert [registry.images[i]["status"] for i in ids[:4]] == [
        "queued", "uploading", "queued", "active"]
    assert files(conf) == [os.path.join(conf.image.staging_dir, importing["id"])]
    svc.delete_staged(importing["id"])
    svc.delete_staged(importing["id"])
    for root in (conf.store.filesystem_store_datadir, conf.image.staging_dir):
        os.makedirs(os.path.join(root, filesystem.TMP_DIR), exist_ok=True)
        with open(os.path.join(root, filesystem.TMP_DIR, "x~%s~999999999~a.part"
                               % filesystem.socket.gethostname()), "wb") as handle:
            handle.write(b"orphan of a dead process")
    svc.cleanup(FakeContext(is_admin=True))
    assert files(conf) == []

"""In-memory stand-ins for the image DataService's tests (test_image_data*.py):
the registry's RPC API and a request context; sample files."""
from __future__ import annotations

import copy
import os
import struct
import uuid
from typing import Any, Callable

from oslo_config import cfg

from common import exception as common_exc
from image import exception


OWNER = "project-a"
OTHER = "project-b"
MIB = 1024 * 1024


class FakeRegistry:
    """The RegistryAPI methods DataService and ImageService use, in memory."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.transitions: list[tuple[str, str]] = []
        self.before_update: Callable[[str, dict[str, Any]], None] | None = None
        self.tasks: dict[str, dict[str, Any]] = {}

    def add(self, **values: Any) -> dict[str, Any]:
        image: dict[str, Any] = dict.fromkeys(
            ("size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
             "location"))
        image.update(id=str(uuid.uuid4()), name="img", status="queued", visibility="private",
                     protected=False, os_hidden=False, owner=OWNER, disk_format="raw",
                     container_format="bare", min_disk=0, min_ram=0, properties={}, tags=[])
        image.update(values)
        self.images[image["id"]] = image
        return copy.deepcopy(image)

    def image_get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        return copy.deepcopy(self.images[image_id])

    def image_update(self, ctxt: Any, image_id: str, values: dict[str, Any],
                     from_status: list[str] | None = None) -> dict[str, Any]:
        if self.before_update is not None:
            self.before_update(image_id, values)
        self.image_get(ctxt, image_id)  # ImageNotFound
        image = self.images[image_id]
        if from_status is not None and image["status"] not in from_status:
            raise exception.InvalidImageStatusTransition(
                current=image["status"], new=values.get("status", image["status"]))
        if "status" in values and values["status"] != image["status"]:
            self.transitions.append((image["status"], values["status"]))
        image.update(values)
        return copy.deepcopy(image)

    def image_delete(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        return self.images.pop(image_id)

    def member_get(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        raise exception.MemberNotFound(member=member, image_id=image_id)

    def task_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        self.image_get(ctxt, values["image_id"])  # ImageNotFound
        task = dict(values, id=str(uuid.uuid4()), status="pending", message="",
                    result=None, statuses=["pending"])
        self.tasks[task["id"]] = task
        return copy.deepcopy(task)

    def task_update(self, ctxt: Any, task_id: str, values: dict[str, Any],
                    from_status: list[str] | None = None) -> dict[str, Any]:
        task = self.tasks[task_id]
        if from_status is not None and task["status"] not in from_status:
            raise exception.InvalidTaskStatusTransition(current=task["status"],
                                                        new=values.get("status"))
        task.update(values)
        if "status" in values:
            task["statuses"].append(values["status"])
        return copy.deepcopy(task)

    def task_of(self, image_id: str) -> dict[str, Any]:
        (task,) = [t for t in self.tasks.values() if t["image_id"] == image_id]
        return task

    def project_usage(self, ctxt: Any, owner: str) -> dict[str, int]:
        mine = [i for i in self.images.values() if i["owner"] == owner]
        return {"count": len(mine), "size": sum(i["size"] or 0 for i in mine)}


class FakeContext:
    def __init__(self, project_id: str = OWNER, is_admin: bool = False,
                 denied: tuple[str, ...] = ()) -> None:
        self.project_id, self.is_admin, self.denied = project_id, is_admin, denied
        self.request_id, self.user_id = "req-" + project_id, "user-" + project_id

    def can(self, action: str, target: dict[str, Any] | None = None,
            fatal: bool = True) -> bool:
        if action in self.denied:
            raise common_exc.PolicyNotAuthorized(action=action)
        return True

    def update_store(self) -> None:  # oslo.context: this thread's logging context
        pass


def files(conf: cfg.ConfigOpts) -> list[str]:
    """Every file under the store and the staging area (temporary ones included)."""
    return sorted(os.path.join(path, n) for root in (conf.store.filesystem_store_datadir,
                                                    conf.image.staging_dir)
                  for path, _dirs, names in os.walk(root) for n in names)


def qcow2(size: int = 1 << 30, backing: int = 0) -> bytes:
    head = b"QFI\xfb" + struct.pack(">IQIIQ", 3, backing, 0, 16, size)
    return head.ljust(64 * 1024, b"\0")

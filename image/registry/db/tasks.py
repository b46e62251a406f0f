"""Query functions of the image tasks (the records of imports). The first
parameter is the context. A task is removed with its image (foreign key ON
DELETE CASCADE); an ended task is removed once it expires."""
from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import sqlalchemy as sa

from common.db import engine
from common.db import models as base_models
from image import exception
from image.registry.db import models as M

#: Statuses of a task still under way; the others are final.
ACTIVE = ("pending", "processing")
FINAL = ("success", "failure")
_JSON = ("input", "result")
_PLAIN = ("status", "message")


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def task_dict(task: M.Task) -> dict[str, Any]:
    """The primitive form every RPC answer carries."""
    return {"id": task.id, "type": task.type, "status": task.status, "owner": task.owner,
            "image_id": task.image_id, "request_id": task.request_id,
            "user_id": task.user_id,
            "input": json.loads(task.input) if task.input is not None else None,
            "result": json.loads(task.result) if task.result is not None else None,
            "message": task.message or "", "expires_at": _iso(task.expires_at),
            "created_at": _iso(task.created_at), "updated_at": _iso(task.updated_at)}


def _end(task: M.Task, status: str, ttl_seconds: int, now: datetime.datetime) -> None:
    """Put ``task`` in final ``status``; it expires ``ttl_seconds`` from ``now``."""
    task.status = status
    task.expires_at = now + datetime.timedelta(seconds=ttl_seconds)


class TaskDB:
    def __init__(self, db: engine.Database) -> None:
        self.db = db

    def create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Record a ``pending`` task of ``values["image_id"]``.

        :param values: ``image_id``, ``type``, and optionally ``owner``,
            ``request_id``, ``user_id``, ``input`` (any JSON value).
        :raises: ImageNotFound.
        """
        with self.db.writer() as session:
            if session.get(M.Image, values["image_id"]) is None:
                raise exception.ImageNotFound(image_id=values["image_id"])
            task = M.Task(id=str(uuid.uuid4()), image_id=values["image_id"],
                          type=values["type"], status="pending", owner=values.get("owner"),
                          request_id=values.get("request_id"),
                          user_id=values.get("user_id"),
                          input=json.dumps(values.get("input")), result=None, message="")
            session.add(task)
            session.flush()
            return task_dict(task)

    def update(self, ctxt: Any, task_id: str, values: dict[str, Any],
               from_status: list[str] | None, ttl_seconds: int) -> dict[str, Any]:
        """Change ``status``, ``message`` and ``result`` of a task; a final status
        sets ``expires_at`` to ``ttl_seconds`` from now.

        :param from_status: when given, the update happens only if the task's
            status is one of these (a compare-and-set).
        :raises: TaskNotFound, InvalidTaskStatusTransition.
        """
        with self.db.writer() as session:
            task = session.get(M.Task, task_id) if task_id else None
            if task is None:
                raise exception.TaskNotFound(task_id=task_id)
            if from_status is not None and task.status not in from_status:
                raise exception.InvalidTaskStatusTransition(
                    current=task.status, new=values.get("status", task.status))
            now = base_models.utcnow()
            for key in _PLAIN:
                if key in values:
                    setattr(task, key, values[key] if key == "status"
                            else str(values[key] or ""))
            for key in _JSON:
                if key in values:
                    setattr(task, key, json.dumps(values[key]))
            if task.status in FINAL:
                _end(task, task.status, ttl_seconds, now)
            task.updated_at = now
            session.flush()
            return task_dict(task)

    def list_by_image(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        """The unexpired tasks of ``image_id``, newest first."""
        now = base_models.utcnow()
        with self.db.reader() as session:
            rows = session.scalars(sa.select(M.Task).where(
                M.Task.image_id == image_id,
                sa.or_(M.Task.expires_at.is_(None), M.Task.expires_at >= now),
            ).order_by(M.Task.created_at.desc(), M.Task.id.desc()))
            return [task_dict(t) for t in rows]

    def fail_stalled(self, ctxt: Any, older_than: int, ttl_seconds: int) -> list[str]:
        """Fail the tasks whose import died with its process: still pending or
        processing, untouched for ``older_than`` seconds, and their image no
        longer ``importing`` (the registry puts a stalled import's image back
        first, see ``ImageDB.reset_stalled``).

        :returns: the ids of the tasks failed.
        """
        now = base_models.utcnow()
        cutoff = now - datetime.timedelta(seconds=older_than)
        importing = sa.select(M.Image.id).where(M.Image.status == "importing")
        failed = []
        with self.db.writer() as session:
            stalled = session.scalars(sa.select(M.Task).where(
                M.Task.status.in_(ACTIVE), M.Task.updated_at < cutoff,
                M.Task.image_id.not_in(importing)))
            for task in stalled:
                _end(task, "failure", ttl_seconds, now)
                task.message = ("The import stopped: the image service process running "
                                "it ended before the import finished. Import the image "
                                "again.")
                task.updated_at = now
                failed.append(task.id)
        return failed

    def purge_expired(self, ctxt: Any) -> int:
        """Remove the tasks past their ``expires_at``. :returns: how many."""
        with self.db.writer() as session:
            result = session.execute(sa.delete(M.Task).where(
                M.Task.expires_at < base_models.utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

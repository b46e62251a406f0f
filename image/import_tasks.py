"""The task record of each image import (``api_image_import``, as Glance's), kept
in the registry and shown by ``GET /v2/images/{image_id}/tasks``.

A task goes ``pending`` (import accepted) -> ``processing`` (its data moves) ->
``success`` or ``failure`` (with a message). Updates are compare-and-set from the
statuses under way, so the registry failing a stalled task wins over a late
update. Recording is best effort: a registry that cannot keep tasks (older RPC
version) or a failed update never fails the import itself."""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from common import exception as common_exc
from image import exception

LOG = logging.getLogger(__name__)

TYPE = "api_image_import"
_UNDER_WAY = ["pending", "processing"]
_MIB = 1024 * 1024


class ImportTasks:
    """Records the tasks of imports through the registry's RPC API."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def start(self, ctxt: Any, image: dict[str, Any], body: Any) -> str | None:
        """Record a pending import of ``image`` asked for with ``body``.

        :returns: the task id, or None when the registry could not record it.
        :raises: ImageNotFound (the image was deleted meanwhile).
        """
        values = {"image_id": image["id"], "type": TYPE, "owner": image.get("owner"),
                  "request_id": getattr(ctxt, "request_id", None),
                  "user_id": getattr(ctxt, "user_id", None),
                  "input": {"image_id": image["id"], "import_req": body, "backend": None}}
        try:
            return str(self.registry.task_create(ctxt, values)["id"])
        except exception.ImageNotFound:
            raise
        except Exception as err:
            LOG.warning("Could not record the import task of image %(id)s: %(err)s",
                        {"id": image["id"], "err": err})
            return None

    def processing(self, ctxt: Any, task_id: str | None) -> None:
        self._set(ctxt, task_id, {"status": "processing"}, ["pending"])

    def progress(self, ctxt: Any, task_id: str | None, size: int) -> None:
        """Show how much data the import copied so far (as Glance's message does)."""
        self._set(ctxt, task_id, {"message": "Copied %d MiB" % (size // _MIB)},
                  ["processing"])

    def succeed(self, ctxt: Any, task_id: str | None, image_id: str) -> None:
        self._set(ctxt, task_id, {"status": "success", "result": {"image_id": image_id}},
                  _UNDER_WAY)

    def fail(self, ctxt: Any, task_id: str | None, what: str,
             err: BaseException | None = None) -> None:
        """End the task in failure: ``what`` happened, because of ``err`` (its
        message only when safe to show, as the API's faults do)."""
        if err is not None:
            safe = isinstance(err, common_exc.Error) and getattr(err, "safe", False)
            what += ": %s" % (err if safe else "an internal error occurred (request %s)"
                              % getattr(ctxt, "request_id", None))
        self._set(ctxt, task_id, {"status": "failure", "message": what}, _UNDER_WAY)

    def _set(self, ctxt: Any, task_id: str | None, values: dict[str, Any],
             from_status: list[str]) -> None:
        """:raises: nothing (failures are logged)."""
        if task_id is None:
            return
        try:
            self.registry.task_update(ctxt, task_id, values, from_status=from_status)
        except (exception.TaskNotFound, exception.InvalidTaskStatusTransition) as err:
            # The image was deleted with its tasks, or the registry ended the task.
            LOG.info("Import task %(id)s not updated: %(err)s", {"id": task_id, "err": err})
        except Exception as err:
            LOG.warning("Could not update import task %(id)s to %(values)s: %(err)s",
                        {"id": task_id, "values": values, "err": err})

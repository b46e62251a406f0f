"""stratus-image-registry's RPC endpoint: the image database, served to image-api."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exc
from common import rpc
from common import rpc_service
from image import exception
from image.registry import rpcapi
from image.registry.db import api as db_api
from image.registry.db import tasks as tasks_db

LOG = logging.getLogger(__name__)
# The API touches an image at least every minute while its data moves.
STALLED_SECONDS = 300
#: [task] task_time_to_live when the manager runs without a configuration (tests).
DEFAULT_TASK_TTL_HOURS = 48
_EXPECTED = (common_exc.Invalid, common_exc.NotFound, common_exc.Conflict,
             exception.InvalidFilter, exception.InvalidMarker)


class RegistryManager:
    """Thin façade over :class:`db_api.ImageDB` and :class:`tasks_db.TaskDB`; every
    public method is an RPC method."""

    target = messaging.Target(version=rpcapi.RegistryAPI.RPC_API_VERSION)

    def __init__(self, images: db_api.ImageDB, conf: cfg.ConfigOpts | None = None) -> None:
        self.images = images
        self.tasks = tasks_db.TaskDB(images.db)
        self.conf = conf

    def _task_ttl(self) -> int:
        """Seconds an ended task stays listed (``[task] task_time_to_live``)."""
        hours = (self.conf.task.task_time_to_live if self.conf is not None
                 else DEFAULT_TASK_TTL_HOURS)
        return int(hours) * 3600

    @rpc_service.periodic_task(spacing=60, run_immediately=True)
    def _reset_stalled_uploads(self, ctxt: Any) -> None:
        """Uploads not touched for 5 minutes died with their API process; so did
        the import tasks left pending or processing with them (also at start:
        a restart must not leave them there). Expired tasks go.

        Private, so not callable over RPC (periodic only).
        """
        for image_id in self.images.reset_stalled(ctxt, STALLED_SECONDS):
            LOG.warning("Upload of image %(id)s stalled; it can be retried", {"id": image_id})
        for task_id in self.tasks.fail_stalled(ctxt, STALLED_SECONDS, self._task_ttl()):
            LOG.warning("Task %(id)s stalled with its import; marked failure", {"id": task_id})
        purged = self.tasks.purge_expired(ctxt)
        if purged:
            LOG.info("Removed %(n)d expired image tasks", {"n": purged})

    @rpc.expected(*_EXPECTED)
    def image_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Create an image record. :raises: DuplicateImage."""
        return self.images.create(ctxt, values)

    @rpc.expected(*_EXPECTED)
    def image_get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        """:raises: ImageNotFound."""
        return self.images.get(ctxt, image_id)

    @rpc.expected(*_EXPECTED)
    def image_list(self, ctxt: Any, filters: dict[str, Any], marker: str | None, limit: int,
                   sort: list[list[str]], viewer: dict[str, Any]) -> list[dict[str, Any]]:
        """One page of the images ``viewer`` may see. :raises: InvalidMarker, InvalidFilter."""
        return self.images.list_images(ctxt, filters, marker, limit,
                                [(k, d) for k, d in sort], viewer)

    @rpc.expected(*_EXPECTED)
    def image_update(self, ctxt: Any, image_id: str, values: dict[str, Any],
                     from_status: list[str] | None = None) -> dict[str, Any]:
        """:raises: ImageNotFound, InvalidImageStatusTransition."""
        return self.images.update(ctxt, image_id, values, from_status)

    @rpc.expected(*_EXPECTED)
    def image_delete(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        """Delete the record; returns it (the caller deletes the data). :raises: ImageNotFound."""
        return self.images.delete(ctxt, image_id)

    @rpc.expected(*_EXPECTED)
    def image_tag_add(self, ctxt: Any, image_id: str, tag: str) -> None:
        """:raises: ImageNotFound."""
        self.images.add_tag(ctxt, image_id, tag)

    @rpc.expected(*_EXPECTED)
    def image_tag_delete(self, ctxt: Any, image_id: str, tag: str) -> None:
        """:raises: ImageNotFound (image or tag)."""
        self.images.delete_tag(ctxt, image_id, tag)

    @rpc.expected(*_EXPECTED)
    def project_usage(self, ctxt: Any, owner: str) -> dict[str, int]:
        """Image count and bytes of ``owner``. :raises: nothing."""
        return self.images.usage(ctxt, owner)

    @rpc.expected(*_EXPECTED)
    def member_create(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        """:raises: ImageNotFound, DuplicateMember."""
        return self.images.add_member(ctxt, image_id, member)

    @rpc.expected(*_EXPECTED)
    def member_get(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        """:raises: MemberNotFound."""
        return self.images.get_member(ctxt, image_id, member)

    @rpc.expected(*_EXPECTED)
    def member_list(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        """:raises: nothing."""
        return self.images.list_members(ctxt, image_id)

    @rpc.expected(*_EXPECTED)
    def member_update(self, ctxt: Any, image_id: str, member: str,
                      status: str) -> dict[str, Any]:
        """:raises: MemberNotFound."""
        return self.images.update_member(ctxt, image_id, member, status)

    @rpc.expected(*_EXPECTED)
    def member_delete(self, ctxt: Any, image_id: str, member: str) -> None:
        """:raises: MemberNotFound."""
        self.images.delete_member(ctxt, image_id, member)

    @rpc.expected(*_EXPECTED)
    def task_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Record a pending task of ``values["image_id"]`` (1.1). :raises: ImageNotFound."""
        return self.tasks.create(ctxt, values)

    @rpc.expected(*_EXPECTED)
    def task_update(self, ctxt: Any, task_id: str, values: dict[str, Any],
                    from_status: list[str] | None = None) -> dict[str, Any]:
        """Change a task's status, message, result (1.1); a final status starts its
        time to live. :raises: TaskNotFound, InvalidTaskStatusTransition."""
        return self.tasks.update(ctxt, task_id, values, from_status, self._task_ttl())

    @rpc.expected(*_EXPECTED)
    def task_list(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        """The unexpired tasks of ``image_id``, newest first (1.1). :raises: nothing."""
        return self.tasks.list_by_image(ctxt, image_id)

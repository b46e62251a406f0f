"""Client of stratus-image-registry, used by stratus-image-api."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg

from common import rpc

TOPIC = "image-registry"


class RegistryAPI:
    """Client for image-registry.

    History:
      1.0 - Initial: image_create/get/list/update/delete, image_tag_add/delete,
            project_usage, member_create/get/list/update/delete
      1.1 - task_create, task_update, task_list (the tasks of image imports)
    """

    RPC_API_VERSION = "1.1"

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._timeout = conf.image.registry_timeout
        self._client = rpc.get_client(messaging.Target(topic=TOPIC, version="1.0"),
                                      timeout=self._timeout)

    def _call(self, ctxt: Any, method: str, version: str = "1.0", **kwargs: Any) -> Any:
        cctxt = self._client.prepare(version=version, timeout=self._timeout)
        return cctxt.call(ctxt, method, **kwargs)

    def image_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call(ctxt, "image_create", values=values))

    def image_get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        return dict(self._call(ctxt, "image_get", image_id=image_id))

    def image_list(self, ctxt: Any, filters: dict[str, Any], marker: str | None, limit: int,
                   sort: list[tuple[str, str]], viewer: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._call(ctxt, "image_list", filters=filters, marker=marker, limit=limit,
                               sort=[list(s) for s in sort], viewer=viewer))

    def image_update(self, ctxt: Any, image_id: str, values: dict[str, Any],
                     from_status: list[str] | None = None) -> dict[str, Any]:
        return dict(self._call(ctxt, "image_update", image_id=image_id, values=values,
                               from_status=from_status))

    def image_delete(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        return dict(self._call(ctxt, "image_delete", image_id=image_id))

    def image_tag_add(self, ctxt: Any, image_id: str, tag: str) -> None:
        self._call(ctxt, "image_tag_add", image_id=image_id, tag=tag)

    def image_tag_delete(self, ctxt: Any, image_id: str, tag: str) -> None:
        self._call(ctxt, "image_tag_delete", image_id=image_id, tag=tag)

    def project_usage(self, ctxt: Any, owner: str) -> dict[str, int]:
        return dict(self._call(ctxt, "project_usage", owner=owner))

    def member_create(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        return dict(self._call(ctxt, "member_create", image_id=image_id, member=member))

    def member_get(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        return dict(self._call(ctxt, "member_get", image_id=image_id, member=member))

    def member_list(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        return list(self._call(ctxt, "member_list", image_id=image_id))

    def member_update(self, ctxt: Any, image_id: str, member: str,
                      status: str) -> dict[str, Any]:
        return dict(self._call(ctxt, "member_update", image_id=image_id, member=member,
                               status=status))

    def member_delete(self, ctxt: Any, image_id: str, member: str) -> None:
        self._call(ctxt, "member_delete", image_id=image_id, member=member)

    def task_create(self, ctxt: Any, values: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call(ctxt, "task_create", version="1.1", values=values))

    def task_update(self, ctxt: Any, task_id: str, values: dict[str, Any],
                    from_status: list[str] | None = None) -> dict[str, Any]:
        return dict(self._call(ctxt, "task_update", version="1.1", task_id=task_id,
                               values=values, from_status=from_status))

    def task_list(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        return list(self._call(ctxt, "task_list", version="1.1", image_id=image_id))

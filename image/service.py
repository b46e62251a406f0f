"""The image API's business rules: visibility, ownership, JSON-patch, members, tags.
Image records live in the registry (over RPC); image data in a store."""
from __future__ import annotations

import socket
import uuid
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exc
from common import rpc
from image import exception
from image.registry import rpcapi

LOG = logging.getLogger(__name__)

READ_ONLY = ("checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "status",
             "created_at", "updated_at", "self", "file", "schema", "direct_url", "id",
             "stores")
RESERVED = ("location", "locations", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"
VISIBILITIES = ("public", "private", "shared", "community")
MEMBER_STATUSES = ("pending", "accepted", "rejected")
_BOOL_FIELDS = ("protected", "os_hidden")
_INT_FIELDS = ("min_disk", "min_ram")


def notify(ctxt: Any, event_type: str, image: dict[str, Any]) -> None:
    """Emit ``event_type`` for ``image``; where its data lives stays internal."""
    payload = {k: v for k, v in image.items() if k != "location"}
    rpc.notify(ctxt, event_type, payload, publisher_id="image.%s" % _host())


def _host() -> str:
    return socket.gethostname()


class ImageService:
    def __init__(self, conf: cfg.ConfigOpts, registry: rpcapi.RegistryAPI, store: Any) -> None:
        self.conf = conf
        self.registry = registry
        self.store = store

    # -- visibility and ownership
    @staticmethod
    def is_owner(ctxt: Any, image: dict[str, Any]) -> bool:
        return bool(ctxt.is_admin or (image.get("owner") and image["owner"] == ctxt.project_id))

    def get(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        """The image if ``ctxt`` may see it. :raises: ImageNotFound."""
        image = self.registry.image_get(ctxt, image_id)
        if self.is_owner(ctxt, image) or image["visibility"] in ("public", "community"):
            return image
        if image["visibility"] == "shared" and ctxt.project_id:
            try:
                self.registry.member_get(ctxt, image_id, ctxt.project_id)
                return image
            except exception.MemberNotFound:
                pass
        raise exception.ImageNotFound(image_id=image_id)

    def get_owned(self, ctxt: Any, image_id: str, what: str = "modify") -> dict[str, Any]:
        """The image if ``ctxt`` owns it. :raises: ImageNotFound, Forbidden (403)."""
        image = self.get(ctxt, image_id)
        if not self.is_owner(ctxt, image):
            raise common_exc.Forbidden("You are not permitted to %s this image." % what)
        return image

    # -- tasks
    def list_tasks(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        """The unexpired tasks of an image ``ctxt`` may see, newest first: as
        Glance, only the tasks of the caller's project (all for an admin).

        :raises: ImageNotFound, also when the policy (``image:get_image``, which
            Glance checks here) refuses: Glance answers 404 then too.
        """
        try:
            ctxt.can("image:get_image")
            self.get(ctxt, image_id)
        except common_exc.Forbidden:
            raise exception.ImageNotFound(image_id=image_id)
        tasks = self.registry.task_list(ctxt, image_id)
        if ctxt.is_admin:
            return tasks
        return [t for t in tasks if t.get("owner") in (None, ctxt.project_id)]

    # -- create / list / delete
    def create(self, ctxt: Any, body: dict[str, Any]) -> dict[str, Any]:
        values = self._create_values(ctxt, body)
        self._check_quota(ctxt, values["owner"], count=1)
        image = self.registry.image_create(ctxt, values)
        notify(ctxt, "image.create", image)
        return image

    def _create_values(self, ctxt: Any, body: dict[str, Any]) -> dict[str, Any]:
        for key in body:
            if key in READ_ONLY and key != "id":
                raise common_exc.Forbidden("Attribute '%s' is read-only." % key)
            if key in RESERVED:
                raise common_exc.Forbidden("Attribute '%s' is reserved." % key)
        values: dict[str, Any] = {"status": "queued", "visibility": "shared",
                                  "protected": False, "os_hidden": False,
                                  "min_disk": 0, "min_ram": 0, "owner": ctxt.project_id,
                                  "properties": {}, "tags": []}
        if "id" in body:
            try:
                values["id"] = str(uuid.UUID(str(body["id"])))
            except ValueError:
                raise common_exc.ValidationError(field="id", detail="not a valid UUID")
        for key, value in body.items():
            if key in ("id", "owner"):
                continue
            self._set(ctxt, values, key, value)
        if "owner" in body:
            self._set(ctxt, values, "owner", body["owner"])
            if body["owner"] != ctxt.project_id:
                ctxt.can("image:set_image_owner")
        self._check_property_quota(values["properties"], values["tags"])
        return values

    def _set(self, ctxt: Any, values: dict[str, Any], key: str, value: Any) -> None:
        """Validate one attribute and put it in ``values`` (core or property)."""
        if key == "tags":
            values["tags"] = _valid_tags(value)
        elif key == "visibility":
            values["visibility"] = _valid_visibility(ctxt, value)
        elif key in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise common_exc.ValidationError(field=key, detail="must be a boolean")
            values[key] = value
        elif key in _INT_FIELDS:
            if not isinstance(value, int) or isinstance(value, bool) \
                    or not 0 <= value <= 2 ** 31 - 1:
                raise common_exc.ValidationError(field=key, detail="must be an integer from 0 "
                                                 "to 2147483647")
            values[key] = value
        elif key in ("disk_format", "container_format"):
            allowed = getattr(self.conf.image, key + "s")
            if value is not None and value not in allowed:
                raise common_exc.ValidationError(field=key, detail="must be one of %s"
                                                 % ", ".join(allowed))
            values[key] = value
        elif key in ("name", "owner"):
            if value is not None and (not isinstance(value, str) or len(value) > 255):
                raise common_exc.ValidationError(field=key, detail="must be a string of at "
                                                 "most 255 characters")
            values[key] = value
        else:
            if key.startswith(RESERVED_PREFIX):
                raise common_exc.Forbidden("Attribute '%s' is reserved." % key)
            if not isinstance(value, str) or len(key) > 255 or not key:
                raise common_exc.ValidationError(field=key, detail="additional properties "
                                                 "must be strings")
            values.setdefault("properties", {})[key] = value

    def _check_property_quota(self, props: dict[str, Any], tags: list[str]) -> None:
        limit = self.conf.image.image_property_quota
        if limit >= 0 and len([v for v in props.values() if v is not None]) > limit:
            raise exception.LimitExceeded(detail="too many image properties (limit %d)" % limit)
        limit = self.conf.image.image_tag_quota
        if limit >= 0 and len(tags) > limit:
            raise exception.LimitExceeded(detail="too many image tags (limit %d)" % limit)

    def _check_quota(self, ctxt: Any, owner: str | None, count: int = 0,
                     size: int = 0) -> None:
        quota = self.conf.quota
        if not owner or (quota.image_count_total < 0 and quota.image_size_total < 0):
            return
        usage = self.registry.project_usage(ctxt, owner)
        if count and 0 <= quota.image_count_total < usage["count"] + count:
            raise exception.QuotaExceeded(resource="image_count_total",
                                          detail="%d images" % quota.image_count_total)
        limit = quota.image_size_total * 1024 * 1024
        if size and 0 <= limit < usage["size"] + size:
            raise exception.QuotaExceeded(resource="image_size_total",
                                          detail="%d MiB" % quota.image_size_total)

    def remaining_bytes(self, ctxt: Any, owner: str | None) -> int | None:
        """Bytes ``owner`` may still store, or None when unlimited."""
        limit = self.conf.quota.image_size_total
        if not owner or limit < 0:
            return None
        return max(0, limit * 1024 * 1024 - self.registry.project_usage(ctxt, owner)["size"])

    def list_images(self, ctxt: Any, filters: dict[str, Any], marker: str | None, limit: int,
             sort: list[tuple[str, str]]) -> list[dict[str, Any]]:
        viewer = {"project_id": ctxt.project_id, "is_admin": bool(ctxt.is_admin)}
        if marker is not None:
            try:
                self.get(ctxt, marker)
            except exception.ImageNotFound:
                try:
                    self.registry.image_get(ctxt, marker)
                except exception.ImageNotFound:
                    raise exception.InvalidMarker(marker=marker)
                # It exists but is someone else's: Glance answers 403 here.
                raise common_exc.Forbidden("Not allowed to page from image %s." % marker)
        return self.registry.image_list(ctxt, filters, marker, limit, sort, viewer)

    def delete(self, ctxt: Any, image_id: str) -> None:
        image = self.get_owned(ctxt, image_id, "delete")
        if image["protected"]:
            raise common_exc.Forbidden("Image %s is protected and cannot be deleted." % image_id)
        deleted = self.registry.image_delete(ctxt, image_id)
        if deleted.get("location"):
            try:
                self.store.delete(deleted["location"])
            except OSError:
                LOG.warning("Could not delete the data of image %(id)s at %(loc)s",
                            {"id": image_id, "loc": deleted["location"]})
        notify(ctxt, "image.delete", deleted)

    # -- update (JSON patch)
    def patch(self, ctxt: Any, image_id: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        image = self.get_owned(ctxt, image_id)
        current = dict(image)
        props = dict(image["properties"])
        values: dict[str, Any] = {}
        for op in ops:
            self._apply(ctxt, image, current, props, values, op)
        prop_changes = {k: v for k, v in props.items() if image["properties"].get(k) != v}
        prop_changes.update({k: None for k in image["properties"] if k not in props})
        self._check_property_quota(props, values.get("tags", image["tags"]))
        if not values and not prop_changes:
            return image
        values["properties"] = prop_changes
        updated = self.registry.image_update(ctxt, image_id, values)
        notify(ctxt, "image.update", updated)
        return updated

    def _apply(self, ctxt: Any, image: dict[str, Any], current: dict[str, Any],
               props: dict[str, Any], values: dict[str, Any], op: dict[str, Any]) -> None:
        name = op["path"]
        if name in READ_ONLY:
            raise common_exc.Forbidden("Attribute '%s' is read-only." % name)
        if name in RESERVED or name.startswith(RESERVED_PREFIX):
            raise common_exc.Forbidden("Attribute '%s' is reserved." % name)
        core = name in ("name", "visibility", "protected", "os_hidden", "min_disk",
                        "min_ram", "disk_format", "container_format", "owner", "tags")
        if name in ("disk_format", "container_format") and image["status"] != "queued" \
                and op["op"] != "remove":
            raise common_exc.Forbidden("Attribute %s can be only replaced for a queued "
                                       "image." % name)
        if op["op"] == "remove":
            if core:
                raise common_exc.Forbidden("Attribute '%s' cannot be removed." % name)
            if name not in props:
                raise common_exc.Conflict("Property %s does not exist." % name)
            del props[name]
            return
        if op["op"] == "replace" and not core and name not in props:
            raise common_exc.Conflict("Property %s does not exist." % name)
        staged: dict[str, Any] = {"properties": {}}
        self._set(ctxt, staged, name, op["value"])
        if name == "owner" and op["value"] != image.get("owner"):
            ctxt.can("image:set_image_owner")
        if core:
            values[name] = staged[name]
            current[name] = staged[name]
        else:
            props[name] = staged["properties"][name]

    # -- actions
    def set_active_state(self, ctxt: Any, image_id: str, activate: bool) -> None:
        ctxt.can("image:reactivate" if activate else "image:deactivate")
        image = self.get_owned(ctxt, image_id, "reactivate" if activate else "deactivate")
        want, allowed = ("active", ["deactivated", "active"]) if activate else (
            "deactivated", ["active", "deactivated"])
        if image["status"] not in allowed:
            raise common_exc.Forbidden("Not allowed to %s image in status '%s'" % (
                "reactivate" if activate else "deactivate", image["status"]))
        if image["status"] != want:
            self.registry.image_update(ctxt, image_id, {"status": want}, from_status=allowed)

    # -- tags
    def add_tag(self, ctxt: Any, image_id: str, tag: str) -> None:
        image = self.get_owned(ctxt, image_id)
        if len(tag) > 255:
            raise common_exc.ValidationError(field="tag", detail="longer than 255 characters")
        if tag not in image["tags"]:
            self._check_property_quota({}, image["tags"] + [tag])
        self.registry.image_tag_add(ctxt, image_id, tag)

    def delete_tag(self, ctxt: Any, image_id: str, tag: str) -> None:
        self.get_owned(ctxt, image_id)
        self.registry.image_tag_delete(ctxt, image_id, tag)

    # -- members
    def add_member(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        image = self.get_owned(ctxt, image_id, "share")
        if image["visibility"] != "shared":
            raise common_exc.Forbidden("Image %s is not a shared image; only shared images "
                                       "can have members." % image_id)
        limit = self.conf.image.image_member_quota
        if limit >= 0 and len(self.registry.member_list(ctxt, image_id)) >= limit:
            raise exception.LimitExceeded(detail="too many members (limit %d)" % limit)
        return self.registry.member_create(ctxt, image_id, member)

    def list_members(self, ctxt: Any, image_id: str) -> list[dict[str, Any]]:
        image = self.get(ctxt, image_id)
        if image["visibility"] != "shared":
            raise common_exc.Forbidden("Only shared images have members.")
        members = self.registry.member_list(ctxt, image_id)
        if self.is_owner(ctxt, image):
            return members
        return [m for m in members if m["member_id"] == ctxt.project_id]

    def get_member(self, ctxt: Any, image_id: str, member: str) -> dict[str, Any]:
        image = self.get(ctxt, image_id)
        if not self.is_owner(ctxt, image) and member != ctxt.project_id:
            raise exception.MemberNotFound(member=member, image_id=image_id)
        return self.registry.member_get(ctxt, image_id, member)

    def update_member(self, ctxt: Any, image_id: str, member: str,
                      status: str) -> dict[str, Any]:
        self.get(ctxt, image_id)
        if member != ctxt.project_id:
            raise common_exc.Forbidden("Only the member may change its membership status.")
        if status not in MEMBER_STATUSES:
            raise common_exc.ValidationError(field="status",
                                             detail="must be one of %s" % (MEMBER_STATUSES,))
        return self.registry.member_update(ctxt, image_id, member, status)

    def delete_member(self, ctxt: Any, image_id: str, member: str) -> None:
        self.get_owned(ctxt, image_id, "unshare")
        self.registry.member_delete(ctxt, image_id, member)


def _valid_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
            isinstance(t, str) and 0 < len(t) <= 255 for t in value):
        raise common_exc.ValidationError(field="tags", detail="must be a list of short strings")
    return list(dict.fromkeys(value))


def _valid_visibility(ctxt: Any, value: Any) -> str:
    if value not in VISIBILITIES:
        raise common_exc.ValidationError(field="visibility",
                                         detail="must be one of %s" % (VISIBILITIES,))
    if value == "public":
        ctxt.can("image:publicize_image")
    elif value == "community":
        ctxt.can("image:communitize_image")
    return str(value)

"""Response bodies of the volume resources (and links shared by every controller).

Which fields a volume shows depends on the microversion and on who asks, exactly
as Tempest's per-version schemas check (``tempest/lib/api_schema/response/volume``):
``group_id`` from 3.13, ``provider_id`` from 3.21 (admins), ``service_uuid`` and
``shared_targets`` from 3.48; ``migration_status``, ``os-vol-host-attr:host`` and
``os-vol-mig-status-attr:*`` for admins only.
"""
from __future__ import annotations

from typing import Any

from common.wsgi import versions

PROJECT_PREFIX_KEY = "stratus.blockstorage.project_prefix"



#: Admin metadata every reader of a volume sees among its metadata (as Cinder shows it).
VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


def visible_metadata(volume: dict[str, Any]) -> dict[str, str]:
    """The volume's metadata plus the visible admin metadata (``readonly`` …)."""
    metadata = dict(volume.get("metadata") or {})
    admin = volume.get("admin_metadata") or {}
    for key in VISIBLE_ADMIN_METADATA:
        if key in admin:
            metadata[key] = admin[key]
    return metadata

class Links:
    """Cinder's ``links``: a versioned self link and an unversioned bookmark, both
    with the project id the client used in its URL."""

    def __init__(self, req: Any, public_endpoint: str | None) -> None:
        self.base = versions.base_url(req, public_endpoint)
        prefix = req.environ.get(PROJECT_PREFIX_KEY, "")
        self.versioned = self.base + "/v3" + prefix
        self.unversioned = self.base + prefix

    def item(self, collection: str, item_id: str) -> list[dict[str, str]]:
        return [{"rel": "self", "href": "%s/%s/%s" % (self.versioned, collection, item_id)},
                {"rel": "bookmark",
                 "href": "%s/%s/%s" % (self.unversioned, collection, item_id)}]

    def collection(self, path: str) -> str:
        """The versioned URL of a collection (``volumes/detail``), for next links."""
        return "%s/%s" % (self.versioned, path)


def links_of(app: Any, req: Any) -> Links:
    return Links(req, app.conf.api.public_endpoint)


def time(value: Any) -> str | None:
    """An ISO 8601 time as Cinder shows it (``2026-12-06T03:00:00.000000``)."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


class VolumeView:
    """Renders volumes for one request: its microversion and what the caller may see."""

    def __init__(self, links: Links, version: tuple[int, int], *, admin: bool,
                 tenant_attr: bool = True, image_meta: bool = True) -> None:
        self.links = links
        self.version = version
        self.admin = admin
        self.tenant_attr = tenant_attr
        self.image_meta = image_meta

    def summary(self, volume: dict[str, Any]) -> dict[str, Any]:
        return {"id": volume["id"], "name": volume["name"],
                "links": self.links.item("volumes", volume["id"])}

    def attachments(self, volume: dict[str, Any]) -> list[dict[str, Any]]:
        """The volume's attached attachments (reserved ones are not shown). The
        ``id`` is the volume's, a Cinder quirk clients rely on; the host name is for
        admins only."""
        found = []
        for att in volume.get("attachments") or []:
            if att.get("attach_status") != "attached":
                continue
            found.append({"id": volume["id"], "attachment_id": att["id"],
                          "volume_id": volume["id"], "server_id": att.get("instance_uuid"),
                          "host_name": att.get("attached_host") if self.admin else None,
                          "device": att.get("mountpoint"),
                          "attached_at": time(att.get("attach_time"))})
        return found

    def detail(self, volume: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": volume["id"], "name": volume["name"],
            "description": volume["description"], "size": volume["size"],
            "status": volume["status"], "availability_zone": volume["availability_zone"],
            "created_at": time(volume["created_at"]),
            "updated_at": time(volume["updated_at"]),
            "attachments": self.attachments(volume),
            "links": self.links.item("volumes", volume["id"]),
            "volume_type": volume.get("volume_type_name"),
            "snapshot_id": volume["snapshot_id"], "source_volid": volume["source_volid"],
            "metadata": visible_metadata(volume),
            "user_id": volume["user_id"],
            "bootable": "true" if volume["bootable"] else "false",
            "encrypted": bool(volume.get("encrypted")),
            "replication_status": volume.get("replication_status"),
            "consistencygroup_id": volume.get("consistencygroup_id"),
            "multiattach": bool(volume["multiattach"]),
        }
        if self.tenant_attr:
            body["os-vol-tenant-attr:tenant_id"] = volume["project_id"]
        if self.admin:
            body["migration_status"] = volume.get("migration_status")
            body["os-vol-host-attr:host"] = volume.get("host")
            body["os-vol-mig-status-attr:migstat"] = volume.get("migration_status")
            body["os-vol-mig-status-attr:name_id"] = volume.get("name_id")
        if self.image_meta and volume.get("glance_metadata"):
            body["volume_image_metadata"] = dict(volume["glance_metadata"])
        self._versioned(body, volume)
        return body

    def _versioned(self, body: dict[str, Any], volume: dict[str, Any]) -> None:
        if self.version >= (3, 13):
            body["group_id"] = volume.get("group_id")
        if self.version >= (3, 21) and self.admin:
            body["provider_id"] = volume.get("provider_id")
        if self.version >= (3, 48):
            body["service_uuid"] = volume.get("service_uuid")
            body["shared_targets"] = bool(volume.get("shared_targets", True))

    def created(self, volume: dict[str, Any]) -> dict[str, Any]:
        """The body of a create or update answer (no extended attributes)."""
        body = self.detail(volume)
        for key in [k for k in body if k.startswith("os-vol-")]:
            del body[key]
        body.pop("volume_image_metadata", None)
        return body

"""What the volume panels share: Cinder's status rules for each action, the
"attached to" text, and fetching a volume of this project (404 otherwise)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, cast

from django.http import Http404
from django.urls import reverse
from openstack.block_storage.v3._proxy import Proxy as CinderProxy
from openstack.identity.v3._proxy import Proxy as KeystoneProxy

from dashboard import cloud
from dashboard.ui import format as fmt
from dashboard.ui import tables

# The statuses Cinder accepts for each action.
EXTENDABLE = ("available", "in-use")
ATTACHABLE = ("available",)
SNAPSHOTTABLE = ("available", "in-use")
BACKUPABLE = ("available", "in-use")
UPLOADABLE = ("available", "in-use")
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_deleting")
EDITABLE_EXCLUDED = ("deleting", "error_deleting")
SNAPSHOT_DELETABLE = ("available", "error", "error_deleting")
BACKUP_DELETABLE = ("available", "error")
BACKUP_RESTORABLE = ("available",)
# Transitional statuses of backups and snapshots (their rows refresh).
BUSY = ("creating", "restoring", "deleting", "backing-up", "restoring-backup", "attaching",
        "detaching", "extending", "downloading", "uploading", "retyping", "reserved",
        "maintenance", "awaiting-transfer")
# Statuses an admin may reset a volume to.
RESET_STATUSES = ("available", "error", "in-use", "creating", "attaching", "detaching",
                  "deleting", "error_deleting", "error_extending", "maintenance",
                  "reserved")


def cinder(request: Any) -> CinderProxy:
    """The request's Block Storage v3 proxy (typed as v3: Cinder v2 is not spoken)."""
    return cast(CinderProxy, cloud.connection(request).block_storage)


def keystone(request: Any) -> KeystoneProxy:
    return cast(KeystoneProxy, cloud.connection(request).identity)


def status_in(statuses: Iterable[str],
              extra: Callable[[Any], bool] | None = None) -> Callable[[Any], bool]:
    allowed = tuple(statuses)

    def check(item: Any) -> bool:
        return fmt.get(item, "status") in allowed and (extra is None or extra(item))
    return check


def changing(item: Any) -> bool:
    return str(fmt.get(item, "status")) in BUSY or fmt.transitional(fmt.get(item, "status"))


def attachments(volume: Any) -> list[dict[str, Any]]:
    return [a for a in (fmt.get(volume, "attachments") or []) if isinstance(a, dict)]


def attached(volume: Any) -> bool:
    return bool(attachments(volume))


def needs_server_names(volumes: Iterable[Any]) -> bool:
    return any(attached(v) for v in volumes)


def server_names(request: Any, volumes: list[Any], all_projects: bool = False,
                 ) -> dict[str, str]:
    """Names of the servers the volumes are attached to: one list call, made
    only when one of them is attached."""
    if not needs_server_names(volumes) or "compute" not in request.stratus_user.services:
        return {}
    query = {"all_projects": True} if all_projects else {}
    servers = cloud.connection(request).compute.servers(details=False, **query)
    return {s.id: s.name for s in servers}


def attached_to(volume: Any, names: dict[str, str]) -> str:
    """``server on /dev/vdb, ...`` (or '')."""
    parts = []
    for att in attachments(volume):
        server = att.get("server_id") or ""
        label = names.get(server) or server
        device = att.get("device")
        parts.append("%s on %s" % (label, device) if device else label)
    return ", ".join(parts)


def owned_by(request: Any, item: Any) -> bool:
    """False only when the API names another project as the owner (an admin's
    token); members see only their own project's volumes anyway."""
    project = fmt.get(item, "project_id")
    return not project or project == request.stratus_user.project_id


def get_volume(request: Any, volume_id: str) -> Any:
    volume = cinder(request).get_volume(volume_id)
    if not owned_by(request, volume):
        raise Http404("volume of another project")
    return volume


def get_snapshot(request: Any, snapshot_id: str) -> Any:
    snap = cinder(request).get_snapshot(snapshot_id)
    if not owned_by(request, snap):
        raise Http404("snapshot of another project")
    return snap


def get_backup(request: Any, backup_id: str) -> Any:
    backup = cinder(request).get_backup(backup_id)
    if not owned_by(request, backup):
        raise Http404("backup of another project")
    return backup


def size_gib(value: Any) -> str:
    return fmt.size(value, "GiB")


def yes(value: Any) -> str:
    return "Yes" if value else "No"


def volumes_by_id(request: Any) -> dict[str, Any]:
    """The project's volumes by id (one call), for the names of snapshots' and
    backups' volumes."""
    return {v.id: v for v in cinder(request).volumes()}


def volume_column(volumes: dict[str, Any]) -> tables.Column:
    """The "Volume" column of a snapshot or backup: its volume's name, linked
    while the volume exists."""
    def name(item: Any) -> str:
        vol = volumes.get(item.volume_id)
        if vol is not None:
            return str(vol.name or vol.id)
        return str(getattr(item, "volume_name", None) or item.volume_id or "")

    return tables.Column("volume", "Volume", display=name,
                         link=lambda i: reverse("project-volumes:detail", args=[i.volume_id])
                         if i.volume_id in volumes else None)

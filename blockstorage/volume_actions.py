"""The rules of the volume actions (``POST /volumes/{id}/action``): status
checks as compare-and-set updates, the old-style attach bookkeeping
(``os-reserve`` … ``os-detach``), and the casts and calls to the scheduler and the
volume's backend.
"""
from __future__ import annotations

import datetime
from typing import Any

from oslo_log import log as logging

from blockstorage import exception
from blockstorage import quotas
from blockstorage import states
from blockstorage import volumes as volumes_service

LOG = logging.getLogger(__name__)
_ATTACHABLE = (states.AVAILABLE, states.ATTACHING, states.RESERVED)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _attached(volume: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in volume["attachments"] if a["attach_status"] == states.ATTACHED]


def _need_host(volume: dict[str, Any]) -> str:
    if not volume["host"]:
        raise exception.InvalidVolume(reason="volume %s has no backend host" % volume["id"])
    return str(volume["host"])


class VolumeActions:
    """What each action does, given a volume the caller may act on."""

    def __init__(self, volumes: volumes_service.VolumeService) -> None:
        self.volumes = volumes
        self.store = volumes.store

    # -- size and type
    def extend(self, ctxt: Any, volume: dict[str, Any], new_size: int,
               attached_ok: bool) -> None:
        """Grow a volume: ``extending`` and a cast to the scheduler (it checks room).

        :raises: InvalidInput (not larger), InvalidVolume (status), QuotaExceeded.
        """
        allowed = [states.AVAILABLE] + ([states.IN_USE] if attached_ok else [])
        if volume["status"] not in allowed:
            raise exception.InvalidVolume(
                reason="Volume status must be '%s' to extend, currently %s."
                       % ("' or '".join(allowed), volume["status"]))
        if new_size <= volume["size"]:
            raise exception.InvalidInput(
                reason="New size for extend must be greater than current size. "
                       "(current: %(size)s, extended: %(new_size)s)."
                       % {"size": volume["size"], "new_size": new_size})
        engine = self.volumes.quotas
        engine.check_volume_size(volume["project_id"], new_size)
        engine.check(volume["project_id"], quotas.volume_deltas(
            new_size - volume["size"], volume["volume_type_name"], count=0))
        self.store.update(volume["id"], {"status": states.EXTENDING},
                          expected_status=[volume["status"]])
        spec = {"volume_properties": {"size": new_size, "project_id": volume["project_id"]},
                "host": volume["host"], "volume_type_id": volume["volume_type_id"]}
        self.volumes.scheduler_rpc().extend_volume(ctxt, volume["id"], new_size, spec)

    def retype(self, ctxt: Any, volume: dict[str, Any], new_type: str,
               policy: str) -> None:
        """Change a volume's type: ``retyping`` and a cast to the scheduler, which
        keeps the volume on its backend when that backend accepts the new type.

        :raises: VolumeTypeNotFound, InvalidInput (same type, bad policy),
            InvalidVolume (status), QuotaExceeded.
        """
        if policy not in ("never", "on-demand"):
            raise exception.InvalidInput(reason="migration_policy must be 'on-demand' or "
                                                "'never', got %r" % policy)
        if volume["status"] not in (states.AVAILABLE, states.IN_USE):
            raise exception.InvalidVolume(
                reason="Volume status must be available or in-use, currently %s."
                       % volume["status"])
        vtype = self.volumes.types.get_by_name_or_id(
            new_type, None if volumes_service.is_admin(ctxt) else ctxt.project_id)
        if vtype["id"] == volume["volume_type_id"]:
            raise exception.InvalidInput(reason="Retype requires a different volume type.")
        if volume["status"] == states.IN_USE and volume["multiattach"] != \
                volumes_service.multiattach_type(vtype):
            raise exception.InvalidInput(
                reason="Changing the multiattach flag of an in-use volume is not supported.")
        deltas = quotas.volume_deltas(volume["size"], vtype["name"])
        self.volumes.quotas.check(volume["project_id"], {
            k: v for k, v in deltas.items() if k.endswith("_" + vtype["name"])})
        self.store.update(volume["id"], {"status": states.RETYPING},
                          expected_status=[volume["status"]])
        spec = {"volume_properties": {"size": volume["size"],
                                      "project_id": volume["project_id"]},
                "host": volume["host"], "volume_type": vtype, "migration_policy": policy,
                "previous_status": volume["status"]}
        self.volumes.scheduler_rpc().retype(ctxt, volume["id"], vtype["id"], spec)

    # -- old-style attach bookkeeping
    def reserve(self, volume: dict[str, Any]) -> None:
        allowed = list(_ATTACHABLE[:1]) + ([states.IN_USE] if volume["multiattach"] else [])
        self.store.update(volume["id"], {"status": states.ATTACHING},
                          expected_status=allowed)

    def unreserve(self, volume: dict[str, Any]) -> None:
        status = states.IN_USE if _attached(volume) else states.AVAILABLE
        self.store.update(volume["id"], {"status": status},
                          expected_status=[states.ATTACHING, states.RESERVED])

    def begin_detaching(self, volume: dict[str, Any]) -> None:
        self.store.update(volume["id"], {"status": states.DETACHING},
                          expected_status=[states.IN_USE],
                          expected_attach_status=[states.ATTACHED])

    def roll_detaching(self, volume: dict[str, Any]) -> None:
        self.store.update(volume["id"], {"status": states.IN_USE},
                          expected_status=[states.DETACHING])

    def attach(self, volume: dict[str, Any], instance_uuid: str | None,
               host_name: str | None, mountpoint: str | None, mode: str) -> None:
        """Record an attachment (``attached``) and the volume ``in-use``.

        :raises: InvalidVolumeAttachMode (rw on a read-only volume), InvalidVolume.
        """
        if mode not in (states.ACCESS_RW, states.ACCESS_RO):
            raise exception.InvalidVolumeAttachMode(mode=mode, volume_id=volume["id"])
        readonly = str(volume["admin_metadata"].get("readonly", "False")) == "True"
        if readonly and mode != states.ACCESS_RO:
            raise exception.InvalidVolumeAttachMode(mode=mode, volume_id=volume["id"])
        allowed = list(_ATTACHABLE)
        if volume["multiattach"]:
            allowed.append(states.IN_USE)
        elif _attached(volume):
            raise exception.InvalidVolume(reason="volume %s is already attached"
                                          % volume["id"])
        if volume["status"] not in allowed:
            raise exception.InvalidVolumeStatus(volume_id=volume["id"],
                                                expected="/".join(allowed),
                                                actual=volume["status"])
        self.volumes.attachments.create(volume["id"], {
            "instance_uuid": instance_uuid, "attached_host": host_name,
            "mountpoint": mountpoint, "attach_mode": mode,
            "attach_status": states.ATTACHED, "attach_time": _now()})
        self.store.set_metadata(volume["id"], {"attached_mode": mode}, kind="admin_metadata")
        self.store.update(volume["id"], {"status": states.IN_USE,
                                         "attach_status": states.ATTACHED},
                          expected_status=allowed)

    def detach(self, volume: dict[str, Any], attachment_id: str | None) -> None:
        """Drop one attachment; the volume is ``available`` once none is left.

        :raises: InvalidVolume (not attached, or several without an id),
            VolumeAttachmentNotFound.
        """
        attached = _attached(volume)
        if attachment_id is None:
            if len(attached) > 1:
                raise exception.InvalidVolume(
                    reason="Volume %s is attached more than once: give attachment_id."
                           % volume["id"])
            if not attached:
                raise exception.InvalidVolume(reason="volume %s is not attached"
                                              % volume["id"])
            attachment_id = attached[0]["id"]
        if attachment_id not in {a["id"] for a in volume["attachments"]}:
            raise exception.VolumeAttachmentNotFound(attachment_id=attachment_id)
        self.volumes.attachments.delete(attachment_id)
        left = [a for a in attached if a["id"] != attachment_id]
        values = ({"status": states.IN_USE} if left else
                  {"status": states.AVAILABLE, "attach_status": states.DETACHED})
        self.store.update(volume["id"], values)
        if not left:
            try:
                self.store.delete_metadata(volume["id"], "attached_mode", "admin_metadata")
            except exception.VolumeAdminMetadataNotFound:
                pass

    # -- connections (calls to the volume's backend)
    def initialize_connection(self, ctxt: Any, volume: dict[str, Any],
                              connector: dict[str, Any]) -> dict[str, Any]:
        """:returns: the connection info. :raises: InvalidVolume (no host, maintenance)."""
        if volume["status"] == states.MAINTENANCE:
            raise exception.InvalidVolume(reason="Volume is in maintenance.")
        info = self.volumes.volume_rpc().initialize_connection(
            ctxt, _need_host(volume), volume["id"], connector)
        return info

    def terminate_connection(self, ctxt: Any, volume: dict[str, Any],
                             connector: dict[str, Any], force: bool = False) -> None:
        self.volumes.volume_rpc().terminate_connection(
            ctxt, _need_host(volume), volume["id"], connector, force=force)

    def force_detach(self, ctxt: Any, volume: dict[str, Any], attachment_id: str | None,
                     connector: dict[str, Any] | None) -> None:
        """Admin: end the connection (forced) and drop the attachment, whatever the
        volume's status."""
        if volume["host"] and connector is not None:
            self.terminate_connection(ctxt, volume, connector, force=True)
        ids = ([attachment_id] if attachment_id else
               [a["id"] for a in volume["attachments"]])
        known = {a["id"] for a in volume["attachments"]}
        for found in ids:
            if found not in known:
                raise exception.VolumeAttachmentNotFound(attachment_id=found)
            self.volumes.attachments.delete(found)
        left = [a for a in _attached(volume) if a["id"] not in ids]
        self.store.update(volume["id"], {"status": states.IN_USE} if left else
                          {"status": states.AVAILABLE, "attach_status": states.DETACHED})

    # -- flags
    def set_bootable(self, volume: dict[str, Any], bootable: bool) -> None:
        self.store.update(volume["id"], {"bootable": bootable})

    def update_readonly(self, volume: dict[str, Any], readonly: bool) -> None:
        if volume["status"] != states.AVAILABLE:
            raise exception.InvalidVolume(
                reason="Volume status must be available to update readonly flag.")
        self.store.set_metadata(volume["id"], {"readonly": str(readonly)},
                                kind="admin_metadata")

    def reset_status(self, volume: dict[str, Any], values: dict[str, Any]) -> None:
        """Admin: set statuses as given, no transition check (Cinder's reset-state).

        :raises: InvalidInput for an unknown status.
        """
        if "status" in values and values["status"] not in states.VOLUME_STATUSES:
            raise exception.InvalidInput(reason="Invalid status: %s" % values["status"])
        if values.get("attach_status") not in (None, states.ATTACHED, states.DETACHED):
            raise exception.InvalidInput(
                reason="Invalid attach_status: %s" % values["attach_status"])
        migration = values.get("migration_status")
        if migration is not None and migration.lower() == "none":
            values["migration_status"] = None
        self.store.update(volume["id"], values)

    # -- images
    def upload_image(self, ctxt: Any, volume: dict[str, Any], params: dict[str, Any],
                     force: bool) -> dict[str, Any]:
        """Create the image record, set the volume ``uploading`` and cast the copy.

        :returns: the record's fields as the action answers them.
        :raises: InvalidVolume (status), ImageUnacceptable, ImageServiceUnavailable.
        """
        allowed = [states.AVAILABLE] + ([states.IN_USE] if force else [])
        if volume["status"] not in allowed:
            raise exception.InvalidVolume(
                reason="Volume %s status must be available or in-use, but current status "
                       "is: %s." % (volume["id"], volume["status"]))
        meta = {"name": params["image_name"], "disk_format": params["disk_format"],
                "container_format": params["container_format"],
                "visibility": params["visibility"], "protected": params["protected"],
                "min_disk": volume["size"]}
        for key, value in volume["glance_metadata"].items():
            if key not in ("image_id", "image_name", "checksum", "size", "container_format",
                           "disk_format", "min_disk") and key not in meta:
                meta[key] = value
        image = self.volumes.image_api.create_image(ctxt, meta)
        updated = self.store.update(volume["id"], {"status": states.UPLOADING},
                                    expected_status=[volume["status"]])
        image_meta = dict(meta, id=image["id"])
        self.volumes.volume_rpc().copy_volume_to_image(ctxt, _need_host(volume),
                                                       volume["id"], image_meta)
        return {"id": volume["id"], "updated_at": updated["updated_at"],
                "status": states.UPLOADING, "display_description": volume["description"],
                "size": volume["size"], "volume_type": self._type_view(volume),
                "image_id": image["id"], "container_format": meta["container_format"],
                "disk_format": meta["disk_format"], "image_name": meta["name"],
                "visibility": meta["visibility"], "protected": meta["protected"]}

    def _type_view(self, volume: dict[str, Any]) -> dict[str, Any] | None:
        if not volume["volume_type_id"]:
            return None
        vtype = self.volumes.types.get(volume["volume_type_id"])
        return {"id": vtype["id"], "name": vtype["name"], "description": vtype["description"],
                "is_public": vtype["is_public"], "extra_specs": vtype["extra_specs"],
                "qos_specs_id": None, "created_at": vtype["created_at"],
                "updated_at": vtype["updated_at"], "deleted": False, "deleted_at": None}

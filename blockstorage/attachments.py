"""The rules of the attachments API (3.27+; the API's service layer): reserve a
volume for an instance, connect it to a host (an RPC call to the volume's
backend returns the connection info), complete, and delete.

The volume follows its attachments: ``reserved`` while one is reserved,
``attaching`` while one connects, ``in-use`` (attach_status ``attached``) once
one is complete, and back to ``available`` when the last one goes. A
multiattach volume already ``in-use`` stays so while more attach.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from blockstorage import exception
from blockstorage import states
from blockstorage import volumes as volumes_service
from blockstorage.db import attachments as attachments_db
from blockstorage.db import snapshots as snapshots_db

LOG = logging.getLogger(__name__)
is_admin = volumes_service.is_admin
# Volume statuses that only attachments set (a delete recomputes them).
_ATTACH_STATUSES = (states.RESERVED, states.ATTACHING, states.IN_USE, states.DETACHING)
# Attachment statuses a connector may be given in.
_CONNECTABLE = (states.ATTACH_RESERVED, states.ATTACH_ATTACHING, states.ATTACH_ATTACHED,
                states.ATTACH_ERROR_ATTACHING)


def flat_connection_info(info: Mapping[str, Any], attachment_id: str,
                         mode: str) -> dict[str, Any]:
    """Cinder's attachment ``connection_info``: the driver's ``data`` with
    ``driver_volume_type`` and ``attachment_id`` beside it (flat)."""
    data = info.get("data")
    flat = dict(data) if isinstance(data, Mapping) else {
        k: v for k, v in info.items() if k != "driver_volume_type"}
    flat["driver_volume_type"] = info.get("driver_volume_type")
    flat["attachment_id"] = attachment_id
    flat.setdefault("access_mode", mode)
    return flat


class AttachmentService:
    """Attachment rules for one API process."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 volumes: volumes_service.VolumeService) -> None:
        self.conf = conf
        self.volumes = volumes
        self.store = attachments_db.AttachmentStore(db)

    # -- reads
    def get(self, ctxt: Any, attachment_id: str) -> dict[str, Any]:
        """An attachment of a volume the caller may see.

        :raises: VolumeAttachmentNotFound.
        """
        att = self.store.get(attachment_id)
        if att["project_id"] != ctxt.project_id and not is_admin(ctxt):
            raise exception.VolumeAttachmentNotFound(attachment_id=attachment_id)
        return att

    def get_all(self, ctxt: Any, query: attachments_db.Query,
                all_tenants: bool = False) -> list[dict[str, Any]]:
        if not (all_tenants and is_admin(ctxt)):
            query.project_id = ctxt.project_id
        return self.store.get_all(query)

    # -- create
    @staticmethod
    def _check_attachable(volume: dict[str, Any], mode: str) -> str:
        """The volume status a new reservation leaves.

        :raises: InvalidVolume, InvalidVolumeAttachMode.
        """
        allowed = ((states.AVAILABLE, states.IN_USE, states.RESERVED, states.ATTACHING)
                   if volume["multiattach"] else (states.AVAILABLE,))
        if volume["status"] not in allowed:
            raise exception.InvalidVolume(
                reason="Volume %s status must be %s, but current status is: %s."
                       % (volume["id"], " or ".join(allowed), volume["status"]))
        readonly = str(volume.get("admin_metadata", {}).get("readonly", "")).lower()
        if readonly == "true" and mode != states.ACCESS_RO:
            raise exception.InvalidVolumeAttachMode(mode=mode, volume_id=volume["id"])
        return states.IN_USE if volume["status"] == states.IN_USE else states.RESERVED

    def create(self, ctxt: Any, volume_id: str, instance_uuid: str | None,
               connector: Mapping[str, Any] | None = None,
               mode: str = states.ACCESS_RW) -> dict[str, Any]:
        """Reserve the volume (and with a ``connector`` connect it).

        :raises: VolumeNotFound, InvalidVolume, InvalidVolumeStatus.
        """
        volume = self.volumes.get(ctxt, volume_id)
        new_status = self._check_attachable(volume, mode)
        self.volumes.store.update(volume_id, {"status": new_status},
                                  expected_status=[volume["status"]])
        try:
            att = self.store.create(volume_id, {
                "instance_uuid": instance_uuid, "attach_mode": mode,
                "attach_status": states.ATTACH_RESERVED})
        except Exception:
            self.volumes.store.update(volume_id, {"status": volume["status"]},
                                      expected_status=[new_status])
            raise
        LOG.info("Volume %(volume)s reserved for %(instance)s (attachment %(id)s)",
                 {"volume": volume_id, "instance": instance_uuid, "id": att["id"]})
        if connector:
            att = self._connect(ctxt, att, connector)
        return att

    # -- connect, complete
    def _connect(self, ctxt: Any, att: dict[str, Any],
                 connector: Mapping[str, Any]) -> dict[str, Any]:
        """Export the volume to the connector's host (RPC call to its backend).

        :raises: InvalidVolume (never placed on a backend), what the backend raises.
        """
        volume = self.volumes.store.get(att["volume_id"])
        if not volume.get("host"):
            raise exception.InvalidVolume(
                reason="Volume %s is not on a backend yet." % volume["id"])
        try:
            info = self.volumes.volume_rpc().attachment_update(
                ctxt, volume["host"], volume["id"], dict(connector), att["id"])
        except Exception:
            self.store.update(att["id"], {"attach_status": states.ATTACH_ERROR_ATTACHING})
            raise
        if volume["status"] in (states.RESERVED, states.AVAILABLE):
            self.volumes.store.update(volume["id"], {"status": states.ATTACHING},
                                      expected_status=[volume["status"]])
        status = (att["attach_status"] if att["attach_status"] == states.ATTACH_ATTACHED
                  else states.ATTACH_ATTACHING)
        return self.store.update(att["id"], {
            "connector": dict(connector), "attach_status": status,
            "connection_info": flat_connection_info(info, att["id"], att["attach_mode"]),
            "attached_host": connector.get("host"),
            "mountpoint": connector.get("mountpoint")})

    def update(self, ctxt: Any, att: dict[str, Any],
               connector: Mapping[str, Any]) -> dict[str, Any]:
        """Give a reserved attachment its host's connector.

        :raises: InvalidAttachmentStatus, InvalidVolume.
        """
        if att["attach_status"] not in _CONNECTABLE:
            raise exception.InvalidAttachmentStatus(
                attachment_id=att["id"], expected="/".join(_CONNECTABLE),
                actual=att["attach_status"])
        return self._connect(ctxt, att, connector)

    def complete(self, ctxt: Any, att: dict[str, Any]) -> None:
        """The host attached the volume: attachment ``attached``, volume ``in-use``."""
        self.store.update(att["id"], {"attach_status": states.ATTACH_ATTACHED,
                                      "attach_time": snapshots_db.utcnow()},
                          expected_status=[states.ATTACH_RESERVED, states.ATTACH_ATTACHING,
                                           states.ATTACH_ATTACHED])
        self.volumes.store.update(att["volume_id"], {"status": states.IN_USE,
                                                     "attach_status": states.ATTACHED})

    # -- delete
    def delete(self, ctxt: Any, att: dict[str, Any]) -> list[dict[str, Any]]:
        """Disconnect (RPC call to the backend when it was connected) and delete
        the attachment; the volume's status follows what is left.

        :returns: the volume's remaining attachments.
        """
        volume = self.volumes.store.get(att["volume_id"])
        if att.get("connector") and volume.get("host"):
            self.volumes.volume_rpc().attachment_delete(ctxt, volume["host"], volume["id"],
                                                        att["id"])
        self.store.delete(att["id"])
        remaining = self.store.attachments_of(volume["id"])
        self._settle_volume(volume, remaining)
        LOG.info("Attachment %(id)s of volume %(volume)s deleted",
                 {"id": att["id"], "volume": volume["id"]})
        return remaining

    def _settle_volume(self, volume: dict[str, Any],
                       remaining: list[dict[str, Any]]) -> None:
        """Set the volume's status from its remaining attachments."""
        if volume["status"] not in _ATTACH_STATUSES:
            return  # another operation (backup, delete...) owns the status now
        kinds = {a["attach_status"] for a in remaining}
        if states.ATTACH_ATTACHED in kinds:
            values = {"status": states.IN_USE, "attach_status": states.ATTACHED}
        elif kinds:
            values = {"status": states.RESERVED, "attach_status": states.DETACHED}
        else:
            values = {"status": states.AVAILABLE, "attach_status": states.DETACHED}
        try:
            self.volumes.store.update(volume["id"], values,
                                      expected_status=list(_ATTACH_STATUSES))
        except exception.InvalidVolumeStatus:
            LOG.info("Volume %(id)s moved on meanwhile; its status is kept",
                     {"id": volume["id"]})

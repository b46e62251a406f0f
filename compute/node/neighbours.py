"""What the compute node asks of the image, network and block storage services.

:class:`Neighbours` is the small interface the workflows call; :class:`RestNeighbours`
implements it with compute's REST clients (``compute.network_info`` and
``compute.clients.*``). Unit tests give the node an in-memory stand-in instead,
so no workflow ever reaches a REST API directly.
"""
from __future__ import annotations

from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from compute import exception
from compute import network_info as nw
from compute.clients import image
from compute.clients import network as neutron
from compute.clients import volume

LOG = logging.getLogger(__name__)

NetworkInfo = list[dict[str, Any]]


class Neighbours(Protocol):
    """The neighbour services, as one compute node needs them."""

    # -- network ------------------------------------------------------------
    def allocate_for_instance(self, ctxt: Any, instance: dict[str, Any],
                              requested_networks: Any, security_groups: list[str],
                              host: str) -> NetworkInfo:
        """Create or adopt the instance's ports, bound to ``host``."""

    def deallocate_for_instance(self, ctxt: Any, instance_uuid: str,
                                network_info: NetworkInfo | None) -> None:
        """Delete the ports compute created, release the adopted ones (idempotent)."""

    def get_instance_nw_info(self, ctxt: Any, instance_uuid: str,
                             current: NetworkInfo | None) -> NetworkInfo:
        """The instance's network_info rebuilt from its ports."""

    def bind_ports(self, ctxt: Any, instance_uuid: str, network_info: NetworkInfo,
                   host: str) -> NetworkInfo:
        """Move the instance's port bindings to ``host``; the new network_info."""

    def release_port(self, ctxt: Any, port_id: str, preserve: bool) -> None:
        """Delete one port of the instance (unbind it when ``preserve``)."""

    # -- image --------------------------------------------------------------
    def get_image(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        """The image record (Glance v2, properties flat)."""

    def download_image(self, ctxt: Any, image_id: str, dest_path: str) -> None:
        """Write the image's data to ``dest_path``."""

    def upload_image(self, ctxt: Any, image_id: str, path: str, disk_format: str) -> None:
        """Upload the file at ``path`` as the (queued) image's data."""

    def delete_image(self, ctxt: Any, image_id: str) -> None:
        """Delete an image (a failed snapshot, a rotated backup)."""

    def list_backups(self, ctxt: Any, instance_uuid: str,
                     backup_type: str) -> list[dict[str, Any]]:
        """The instance's backups of ``backup_type``, newest first."""

    # -- block storage --------------------------------------------------------
    def volume_connect(self, ctxt: Any, attachment_id: str, connector: dict[str, Any],
                       mountpoint: str | None) -> dict[str, Any]:
        """Export the attachment's volume to this host; its connection_info."""

    def volume_attach_complete(self, ctxt: Any, attachment_id: str) -> None:
        """Mark the attachment done (the volume goes ``in-use``)."""

    def volume_disconnect(self, ctxt: Any, attachment_id: str) -> None:
        """Delete the attachment (the volume goes ``available``)."""

    def volume_create(self, ctxt: Any, size: int | None, name: str,
                      image_id: str | None = None, snapshot_id: str | None = None,
                      volume_type: str | None = None) -> dict[str, Any]:
        """Ask for a new volume (blank, from an image or a snapshot); it starts
        ``creating``."""

    def volume_get(self, ctxt: Any, volume_id: str) -> dict[str, Any]:
        """The volume (``status`` …)."""

    def volume_reserve(self, ctxt: Any, volume_id: str, instance_uuid: str) -> str:
        """Reserve the volume for the instance: the new attachment's id."""

    def volume_delete(self, ctxt: Any, volume_id: str) -> None:
        """Delete a volume (one already gone is fine)."""


class RestNeighbours:
    """:class:`Neighbours` over compute's REST clients, configured by ``conf``."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    # -- network
    def allocate_for_instance(self, ctxt: Any, instance: dict[str, Any],
                              requested_networks: Any, security_groups: list[str],
                              host: str) -> NetworkInfo:
        return nw.allocate_for_instance(self.conf, ctxt, instance,
                                                  requested_networks, security_groups, host)

    def deallocate_for_instance(self, ctxt: Any, instance_uuid: str,
                                network_info: NetworkInfo | None) -> None:
        nw.deallocate_for_instance(self.conf, ctxt, instance_uuid, network_info)

    def get_instance_nw_info(self, ctxt: Any, instance_uuid: str,
                             current: NetworkInfo | None) -> NetworkInfo:
        return nw.get_instance_nw_info(self.conf, ctxt, instance_uuid, current)

    def bind_ports(self, ctxt: Any, instance_uuid: str, network_info: NetworkInfo,
                   host: str) -> NetworkInfo:
        for vif in network_info:
            neutron.update_port(self.conf, ctxt, vif["id"], {"binding:host_id": host},
                                admin=True)
        return nw.get_instance_nw_info(self.conf, ctxt, instance_uuid, network_info)

    def release_port(self, ctxt: Any, port_id: str, preserve: bool) -> None:
        try:
            if preserve:
                neutron.update_port(self.conf, ctxt, port_id, {
                    "device_id": "", "device_owner": "", "binding:host_id": None},
                    admin=True)
            else:
                neutron.delete_port(self.conf, ctxt, port_id, admin=True)
        except exception.PortNotFound:
            LOG.debug("Port %s is already gone", port_id)

    # -- image
    def get_image(self, ctxt: Any, image_id: str) -> dict[str, Any]:
        # Kept a few seconds: the node's builds of one image ask the image service once.
        return image.get_image_cached(self.conf, ctxt, image_id)

    def download_image(self, ctxt: Any, image_id: str, dest_path: str) -> None:
        image.download(self.conf, ctxt, image_id, dest_path)

    def upload_image(self, ctxt: Any, image_id: str, path: str, disk_format: str) -> None:
        image.upload(self.conf, ctxt, image_id, path, disk_format=disk_format,
                     container_format="bare")

    def delete_image(self, ctxt: Any, image_id: str) -> None:
        image.delete_image(self.conf, ctxt, image_id)

    def list_backups(self, ctxt: Any, instance_uuid: str,
                     backup_type: str) -> list[dict[str, Any]]:
        lister = getattr(image, "list_images", None)
        if lister is None:
            LOG.warning("Backup rotation skipped: the image client cannot list images")
            return []
        found = lister(self.conf, ctxt, {"instance_uuid": instance_uuid,
                                         "image_type": "backup",
                                         "backup_type": backup_type})
        return sorted((dict(i) for i in found), key=lambda i: str(i.get("created_at") or ""),
                      reverse=True)

    # -- block storage
    def volume_connect(self, ctxt: Any, attachment_id: str, connector: dict[str, Any],
                       mountpoint: str | None) -> dict[str, Any]:
        return volume.attachment_update(self.conf, ctxt, attachment_id, connector,
                                        mountpoint=mountpoint)

    def volume_attach_complete(self, ctxt: Any, attachment_id: str) -> None:
        volume.attachment_complete(self.conf, ctxt, attachment_id)

    def volume_disconnect(self, ctxt: Any, attachment_id: str) -> None:
        try:
            volume.attachment_delete(self.conf, ctxt, attachment_id)
        except exception.VolumeAttachmentNotFound:
            LOG.debug("Volume attachment %s is already gone", attachment_id)

    def volume_create(self, ctxt: Any, size: int | None, name: str,
                      image_id: str | None = None, snapshot_id: str | None = None,
                      volume_type: str | None = None) -> dict[str, Any]:
        return volume.create_volume(self.conf, ctxt, size, name=name, image_id=image_id,
                                    snapshot_id=snapshot_id, volume_type=volume_type)

    def volume_get(self, ctxt: Any, volume_id: str) -> dict[str, Any]:
        return volume.get_volume(self.conf, ctxt, volume_id)

    def volume_reserve(self, ctxt: Any, volume_id: str, instance_uuid: str) -> str:
        return str(volume.attachment_create(self.conf, ctxt, volume_id, instance_uuid)["id"])

    def volume_delete(self, ctxt: Any, volume_id: str) -> None:
        try:
            volume.delete_volume(self.conf, ctxt, volume_id)
        except exception.VolumeNotFound:
            LOG.debug("Volume %s is already gone", volume_id)

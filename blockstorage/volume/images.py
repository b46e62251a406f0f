"""The upload of a volume's data to an image (``os-volume_upload_image``).

The image record exists already (the API made it ``queued`` with its disk and
container formats); the volume daemon sends the data, converted with
``qemu-img`` when the image's disk format is not the volume's, through a
temporary file in ``[volume] image_conversion_dir``.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from oslo_log import log as logging

from common import exception as common_exception
from blockstorage import exception
from blockstorage import states
from blockstorage.volume import flows
from blockstorage.volume.flows import Backend, resting_status

LOG = logging.getLogger(__name__)

# qemu-img's names of the image disk formats an upload may ask for.
_QEMU_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi",
                 "vhd": "vpc", "vhdx": "vhdx"}


def copy_volume_to_image(backend: Backend, ctxt: Any, volume_id: str,
                         image_meta: dict[str, Any]) -> None:
    """Upload an ``uploading`` volume's data as image ``image_meta["id"]``; the volume
    returns to its resting status either way (a failed image is deleted)."""
    image_id = str(image_meta["id"])
    with backend.locked(volume_id):
        try:
            volume = backend.volumes.get(volume_id)
        except exception.VolumeNotFound:
            return
        try:
            _upload(backend, ctxt, volume, image_id, str(image_meta.get("disk_format")
                                                         or "raw"))
        except Exception as err:  # the boundary of an upload: image gone, volume back
            reason = "Upload to image %s failed: %s" % (image_id, flows.message(err))
            backend.fail(volume_id, resting_status(volume), reason, [states.UPLOADING])
            try:
                backend.image_api.delete_image(ctxt, image_id)
            except common_exception.Error:
                LOG.exception("Could not delete image %s of a failed upload", image_id)
            return
        try:
            backend.volumes.update(volume_id, {"status": resting_status(volume)},
                                   expected_status=[states.UPLOADING])
        except (exception.VolumeNotFound, exception.InvalidVolumeStatus):
            return
    LOG.info("Uploaded volume %(id)s to image %(image)s", {"id": volume_id, "image": image_id})


def _upload(backend: Backend, ctxt: Any, volume: dict[str, Any], image_id: str,
            disk_format: str) -> None:
    source = backend.driver.copy_volume_to_image(volume)
    have = backend.driver.volume_format(volume)
    want = _QEMU_FORMATS.get(disk_format, have)
    if want == have:
        backend.image_api.upload_image_data(ctxt, image_id, source)
        return
    directory = str(backend.conf.volume.image_conversion_dir)
    os.makedirs(directory, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=directory, prefix="upload-%s." % image_id)
    os.close(fd)
    try:
        backend.driver.run(["qemu-img", "convert", "-f", have, "-O", want, source, path])
        backend.image_api.upload_image_data(ctxt, image_id, path)
    finally:
        flows.unlink(path)

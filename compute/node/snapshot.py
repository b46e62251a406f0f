"""Snapshots and backups of an instance into the image service.

The API created the (queued) image and set task_state ``image_snapshot`` (or
``image_backup``). The node moves it to ``image_pending_upload``, lets the
driver write the root disk to a local file, moves to ``image_uploading`` while
uploading it, and clears the task state. With ``backup_type`` and
``rotation`` only the newest ``rotation`` backups of that type are kept.

On failure the image is deleted and the task state cleared, with a fault; the
vm_state does not change (Nova's snapshot). An instance deleted meanwhile only
loses its image.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import states
from compute.node import base

LOG = logging.getLogger(__name__)

SNAPSHOT_EVENT = "compute_snapshot_instance"
BACKUP_EVENT = "compute_backup_instance"
_STARTED = [states.IMAGE_SNAPSHOT, states.IMAGE_SNAPSHOT_PENDING, states.IMAGE_BACKUP]


def snapshot_instance(node: base.Node, ctxt: Any, instance_uuid: str, image_id: str,
                      backup_type: str | None = None, rotation: int | None = None) -> None:
    event = BACKUP_EVENT if backup_type else SNAPSHOT_EVENT
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, event):
                node.update(ctxt, instance_uuid, {"task_state": states.IMAGE_PENDING_UPLOAD},
                            expected_task_state=_STARTED)
                guest = base.driver_instance(instance)

                def upload(path: str, disk_format: str) -> None:
                    node.update(ctxt, instance_uuid, {"task_state": states.IMAGE_UPLOADING},
                                expected_task_state=[states.IMAGE_PENDING_UPLOAD])
                    node.neighbours.upload_image(ctxt, image_id, path, disk_format)

                node.driver.snapshot(ctxt, guest, image_id, upload)
                node.update(ctxt, instance_uuid, {"task_state": None},
                            expected_task_state=[states.IMAGE_UPLOADING])
        except Exception as err:  # the boundary of a cast
            LOG.warning("Snapshot %(image)s of instance %(uuid)s failed: %(err)s",
                        {"image": image_id, "uuid": instance_uuid, "err": err})
            _delete_image(node, ctxt, image_id)
            node.revert_task_state(ctxt, instance_uuid, err)
            return
    LOG.info("Instance %(uuid)s snapshotted into image %(image)s",
             {"uuid": instance_uuid, "image": image_id})
    if backup_type and rotation is not None:
        rotate_backups(node, ctxt, instance_uuid, backup_type, int(rotation))


def rotate_backups(node: base.Node, ctxt: Any, instance_uuid: str, backup_type: str,
                   rotation: int) -> list[str]:
    """Delete all but the newest ``rotation`` backups; the ids deleted."""
    try:
        backups = node.neighbours.list_backups(ctxt, instance_uuid, backup_type)
    except Exception:
        LOG.exception("Could not list the %s backups of instance %s", backup_type,
                      instance_uuid)
        return []
    deleted = []
    for image in backups[max(rotation, 0):]:
        image_id = str(image["id"])
        LOG.info("Rotating out backup %(image)s of instance %(uuid)s",
                 {"image": image_id, "uuid": instance_uuid})
        if _delete_image(node, ctxt, image_id):
            deleted.append(image_id)
    return deleted


def _delete_image(node: base.Node, ctxt: Any, image_id: str) -> bool:
    try:
        node.neighbours.delete_image(ctxt, image_id)
    except Exception as err:
        LOG.warning("Could not delete image %(image)s: %(err)s", {"image": image_id,
                                                                  "err": err})
        return False
    return True

"""Starting a volume daemon: what a crash (or a plain restart) interrupted.

Per volume of this backend (``volumes.host`` is this backend, any pool):

* ``creating`` / ``downloading``: the create cannot be resumed (the driver may
  have half-written the object). The object is removed, the volume goes to
  ``error`` with a ``fail_reason``; the user deletes it.
* ``deleting``: the delete is run again (drivers' deletes are idempotent).
* ``extending``: ``error_extending`` (the size in the row is the old one; the
  file may or may not have grown).
* ``uploading``, ``retyping``: back to ``available``/``in-use`` (the upload or
  retype is lost; the image stays ``queued`` for its owner to delete).
* ``available``/``in-use`` (and the other resting ones): the export is
  re-established (``ensure_export``: tgt targets live only in tgtd's memory).

Snapshots of this backend's volumes: ``creating`` -> ``error``; ``deleting`` ->
deleted again.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_log import log as logging

from blockstorage import rpcapi
from blockstorage import states
from blockstorage.db import snapshots as snapshots_db
from blockstorage.db import volumes as volumes_db
from blockstorage.volume import flows

LOG = logging.getLogger(__name__)

CREATE_INTERRUPTED = "The volume service restarted while the volume was being created"
EXTEND_INTERRUPTED = "The volume service restarted while the volume was being extended"
_EXPORTED = (states.AVAILABLE, states.IN_USE, states.RESERVED, states.ATTACHING,
             states.DETACHING, states.BACKING_UP, states.MAINTENANCE,
             states.AWAITING_TRANSFER)
Submit = Callable[..., None]


def own_volumes(backend: flows.Backend) -> list[dict[str, Any]]:
    """Every volume placed on this backend (any pool)."""
    volumes = backend.volumes.get_all(volumes_db.Query(sort=(("created_at", "asc"),)))
    return [v for v in volumes
            if v.get("host") and rpcapi.backend_of(str(v["host"])) == backend.host]


def recover(backend: flows.Backend, ctxt: Any, submit: Submit) -> None:
    """Settle this backend's volumes and snapshots after a start (see the module doc).

    :param submit: runs ``func(backend, *args)`` on the manager's pool (deletes).
    """
    volumes = own_volumes(backend)
    LOG.info("Recovering %(n)d volumes of %(host)s", {"n": len(volumes), "host": backend.host})
    for volume in volumes:
        try:
            _recover_volume(backend, ctxt, volume, submit)
        except Exception:  # one volume must not keep the daemon down
            LOG.exception("Could not recover volume %s", volume["id"])
    ids = {str(v["id"]) for v in volumes}
    snaps = backend.snapshots.get_all(snapshots_db.Query(
        statuses=[states.CREATING, states.DELETING]))
    for snap in snaps:
        if str(snap["volume_id"]) not in ids:
            continue
        if snap["status"] == states.CREATING:
            LOG.warning("Snapshot %s was being created at restart: error", snap["id"])
            flows.set_snapshot(backend, str(snap["id"]), states.ERROR, [states.CREATING])
        else:
            submit(flows.delete_snapshot, ctxt, str(snap["id"]))


def _recover_volume(backend: flows.Backend, ctxt: Any, volume: dict[str, Any],
                    submit: Submit) -> None:
    status = volume["status"]
    volume_id = str(volume["id"])
    if status in (states.CREATING, states.DOWNLOADING):
        try:
            backend.driver.delete_volume(volume)
        except Exception:  # the object may never have been made
            LOG.exception("Removing the half-made volume %s failed", volume_id)
        backend.fail(volume_id, states.ERROR, CREATE_INTERRUPTED,
                     [states.CREATING, states.DOWNLOADING])
    elif status == states.DELETING:
        submit(flows.delete_volume, ctxt, volume_id, True)
    elif status == states.EXTENDING:
        backend.fail(volume_id, states.ERROR_EXTENDING, EXTEND_INTERRUPTED,
                     [states.EXTENDING])
    elif status in (states.UPLOADING, states.RETYPING):
        backend.volumes.update(volume_id, {"status": flows.resting_status(volume)},
                               expected_status=[status])
        LOG.warning("Volume %(id)s was %(status)s at restart: back to resting",
                    {"id": volume_id, "status": status})
    elif status in _EXPORTED and volume.get("provider_location"):
        backend.driver.ensure_export(volume)

"""Clients of the block storage daemons' RPC endpoints (README "RPC").

Three servers:

* ``blockstorage-scheduler`` (:class:`SchedulerAPI`): places new volumes on a
  backend, then casts to that backend's volume daemon.
* ``blockstorage-volume`` with ``server=<host>@<backend>`` (:class:`VolumeAPI`):
  what one backend does to its volumes. The server is the volume's ``host``
  without its ``#pool`` part.
* ``blockstorage-backup`` (:class:`BackupAPI`): backups to the object store.

Every argument and result is JSON-ready (ids and plain dicts; the daemons read
rows themselves). ``cast`` is used for long work whose progress lives in the
statuses, ``call`` (60 s) where the API needs the answer (connection info).
Managers on the other side declare ``target = oslo_messaging.Target(version="1.0")``
and methods with exactly these keyword arguments.
"""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import rpc

# Modules whose exceptions the API re-raises with their real type (and HTTP
# code) when a call fails on the other side; pass to ``rpc.init(exmods=...)``.
EXMODS = ["blockstorage.exception"]
SCHEDULER_TOPIC = "blockstorage-scheduler"
VOLUME_TOPIC = "blockstorage-volume"
BACKUP_TOPIC = "blockstorage-backup"
TIMEOUT = 60

SCHEDULER_BINARY = "stratus-blockstorage-scheduler"
VOLUME_BINARY = "stratus-blockstorage-volume"
BACKUP_BINARY = "stratus-blockstorage-backup"


def backend_of(host: str) -> str:
    """The volume daemon's server name for a volume's ``host``:
    ``node1@file#pool`` -> ``node1@file`` (pools live inside one backend)."""
    return host.partition("#")[0]


class _Client:
    TOPIC = ""
    RPC_API_VERSION = "1.0"

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._client = rpc.get_client(
            messaging.Target(topic=self.TOPIC, version=self.RPC_API_VERSION),
            timeout=timeout)

    def _prepare(self, server: str | None = None, timeout: float | None = None,
                 version: str = "1.0") -> Any:
        kwargs: dict[str, Any] = {"version": version,
                                  "timeout": timeout if timeout is not None else self._timeout}
        if server is not None:
            kwargs["server"] = server
        return self._client.prepare(**kwargs)


class SchedulerAPI(_Client):
    """Client of ``stratus-blockstorage-scheduler`` (topic ``blockstorage-scheduler``).

    History:
      1.0 - Initial: create_volume, extend_volume, retype
    """

    TOPIC = SCHEDULER_TOPIC

    def create_volume(self, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                      filter_properties: dict[str, Any]) -> None:
        """Pick a backend for the ``creating`` volume, write ``volumes.host`` and
        cast ``VolumeAPI.create_volume`` there (or set it ``error``); cast.

        ``request_spec``: ``volume_properties`` (size, availability_zone, …),
        ``volume_type`` (dict with ``extra_specs``), ``snapshot_id``,
        ``source_volid``, ``image_id``, ``backup_id``, ``resource_backend``.
        ``filter_properties``: scheduler hints, ``retry`` (``num_attempts``,
        ``hosts`` already tried).
        """
        self._prepare().cast(ctxt, "create_volume", volume_id=volume_id,
                             request_spec=request_spec, filter_properties=filter_properties)

    def extend_volume(self, ctxt: Any, volume_id: str, new_size: int,
                      request_spec: dict[str, Any]) -> None:
        """Check the volume's backend has room for ``new_size`` GiB, then cast
        ``VolumeAPI.extend_volume`` (or reset the volume's status); cast."""
        self._prepare().cast(ctxt, "extend_volume", volume_id=volume_id, new_size=new_size,
                             request_spec=request_spec)

    def retype(self, ctxt: Any, volume_id: str, new_type_id: str,
               request_spec: dict[str, Any]) -> None:
        """Check the volume's backend accepts type ``new_type_id``, then cast
        ``VolumeAPI.retype`` (or reset the volume's status); cast."""
        self._prepare().cast(ctxt, "retype", volume_id=volume_id, new_type_id=new_type_id,
                             request_spec=request_spec)


class VolumeAPI(_Client):
    """Client of ``stratus-blockstorage-volume`` (topic ``blockstorage-volume``,
    server ``<host>@<backend>``). Each method takes ``host``: the volume's host
    (a ``#pool`` suffix is dropped) or the backend's name.

    History:
      1.0 - Initial
    """

    TOPIC = VOLUME_TOPIC

    def _cast(self, ctxt: Any, host: str, method: str, **kwargs: Any) -> None:
        self._prepare(server=backend_of(host)).cast(ctxt, method, **kwargs)

    def _call(self, ctxt: Any, host: str, method: str, **kwargs: Any) -> Any:
        return self._prepare(server=backend_of(host)).call(ctxt, method, **kwargs)

    def create_volume(self, ctxt: Any, host: str, volume_id: str,
                      request_spec: dict[str, Any], filter_properties: dict[str, Any],
                      allow_reschedule: bool = True) -> None:
        """Create the backend object of a scheduled volume (empty, or from the
        snapshot / volume / image / backup ``request_spec`` names); cast."""
        self._cast(ctxt, host, "create_volume", volume_id=volume_id,
                   request_spec=request_spec, filter_properties=filter_properties,
                   allow_reschedule=allow_reschedule)

    def delete_volume(self, ctxt: Any, host: str, volume_id: str,
                      cascade: bool = False) -> None:
        """Delete a ``deleting`` volume (and, with ``cascade``, its snapshots); cast."""
        self._cast(ctxt, host, "delete_volume", volume_id=volume_id, cascade=cascade)

    def create_snapshot(self, ctxt: Any, host: str, snapshot_id: str) -> None:
        """Snapshot the volume of a ``creating`` snapshot; cast."""
        self._cast(ctxt, host, "create_snapshot", snapshot_id=snapshot_id)

    def delete_snapshot(self, ctxt: Any, host: str, snapshot_id: str) -> None:
        """Delete a ``deleting`` snapshot; cast."""
        self._cast(ctxt, host, "delete_snapshot", snapshot_id=snapshot_id)

    def extend_volume(self, ctxt: Any, host: str, volume_id: str, new_size: int) -> None:
        """Grow an ``extending`` volume to ``new_size`` GiB; cast."""
        self._cast(ctxt, host, "extend_volume", volume_id=volume_id, new_size=new_size)

    def copy_volume_to_image(self, ctxt: Any, host: str, volume_id: str,
                             image_meta: dict[str, Any]) -> None:
        """Upload an ``uploading`` volume's data to image ``image_meta["id"]``
        (``disk_format``, ``container_format`` set); cast."""
        self._cast(ctxt, host, "copy_volume_to_image", volume_id=volume_id,
                   image_meta=image_meta)

    def retype(self, ctxt: Any, host: str, volume_id: str, new_type_id: str) -> None:
        """Change a ``retyping`` volume's type on its backend; cast."""
        self._cast(ctxt, host, "retype", volume_id=volume_id, new_type_id=new_type_id)

    def initialize_connection(self, ctxt: Any, host: str, volume_id: str,
                              connector: dict[str, Any]) -> dict[str, Any]:
        """Export the volume to ``connector``'s host; returns the connection info
        (``driver_volume_type``, ``data``); call."""
        return dict(self._call(ctxt, host, "initialize_connection", volume_id=volume_id,
                               connector=connector))

    def terminate_connection(self, ctxt: Any, host: str, volume_id: str,
                             connector: dict[str, Any], force: bool = False) -> None:
        """Remove the export to ``connector``'s host; call."""
        self._call(ctxt, host, "terminate_connection", volume_id=volume_id,
                   connector=connector, force=force)

    def attachment_update(self, ctxt: Any, host: str, volume_id: str,
                          connector: dict[str, Any], attachment_id: str) -> dict[str, Any]:
        """Export the volume for attachment ``attachment_id`` to ``connector``'s
        host; returns the connection info; call."""
        return dict(self._call(ctxt, host, "attachment_update", volume_id=volume_id,
                               connector=connector, attachment_id=attachment_id))

    def attachment_delete(self, ctxt: Any, host: str, volume_id: str,
                          attachment_id: str) -> None:
        """Remove the export of attachment ``attachment_id``; call."""
        self._call(ctxt, host, "attachment_delete", volume_id=volume_id,
                   attachment_id=attachment_id)

    def get_capabilities(self, ctxt: Any, host: str) -> dict[str, Any]:
        """The backend's capacity report and properties (``get_stats``); call."""
        return dict(self._call(ctxt, host, "get_capabilities"))


class BackupAPI(_Client):
    """Client of ``stratus-blockstorage-backup`` (topic ``blockstorage-backup``).

    ``host`` is optional: None lets any backup daemon take the work; a backup's
    ``host`` pins restore and delete to the daemon that wrote it.

    History:
      1.0 - Initial: create_backup, restore_backup, delete_backup
    """

    TOPIC = BACKUP_TOPIC

    def create_backup(self, ctxt: Any, backup_id: str, host: str | None = None) -> None:
        """Copy the volume of a ``creating`` backup to the object store; cast."""
        self._prepare(server=host).cast(ctxt, "create_backup", backup_id=backup_id)

    def restore_backup(self, ctxt: Any, backup_id: str, volume_id: str,
                       host: str | None = None) -> None:
        """Write a ``restoring`` backup onto the ``restoring-backup`` volume; cast."""
        self._prepare(server=host).cast(ctxt, "restore_backup", backup_id=backup_id,
                                        volume_id=volume_id)

    def delete_backup(self, ctxt: Any, backup_id: str, host: str | None = None) -> None:
        """Delete a ``deleting`` backup's objects, then its row; cast."""
        self._prepare(server=host).cast(ctxt, "delete_backup", backup_id=backup_id)

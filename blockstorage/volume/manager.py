"""``stratus-blockstorage-volume``'s RPC endpoint (topic ``blockstorage-volume``,
server ``<[DEFAULT] host>@<[volume] backend_name>``).

Every public method is one method of ``blockstorage.rpcapi.VolumeAPI`` (same
keyword arguments, minus the routing ``host``). The manager routes: casts with
long work (create, delete, snapshots, extend, image upload, retype) go to a pool
of ``[volume] max_concurrent_operations`` threads so the RPC threads stay free
for the calls (connections, capabilities), which run inline. The workflows are
in :mod:`blockstorage.volume.flows`, crash recovery at start in
:mod:`blockstorage.volume.recovery`.

The backend's capacity report goes into its services row every ``[volume]
report_interval`` seconds (``capabilities``, with a ``timestamp`` the scheduler
uses to forget what it placed before that report).
"""
from __future__ import annotations

import concurrent.futures
import datetime
from collections.abc import Callable
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import context as common_context
from common import rpc_service
from common.db import engine
from blockstorage import exception
from blockstorage import rpcapi
from blockstorage import states
from blockstorage.clients import image as image_client
from blockstorage.volume import drivers
from blockstorage.volume import flows
from blockstorage.volume import images
from blockstorage.volume import recovery
from blockstorage.volume.drivers import base as driver_base

LOG = logging.getLogger(__name__)
BINARY = rpcapi.VOLUME_BINARY
# Attachment statuses whose connection is (or is about to be) in use.
_LIVE_ATTACHMENTS = (states.ATTACH_RESERVED, states.ATTACH_ATTACHING,
                     states.ATTACH_ATTACHED, states.ATTACH_DETACHING)


def backend_host(conf: cfg.ConfigOpts) -> str:
    """This daemon's service host and RPC server: ``<host>@<backend_name>``."""
    return "%s@%s" % (conf.host, conf.volume.backend_name)


def _report_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.volume.report_interval)


def _logged(func: Callable[..., None], *args: Any) -> None:
    try:
        func(*args)
    except Exception:  # the boundary of pooled work: nothing else would log it
        LOG.exception("%s failed", getattr(func, "__name__", func))


class VolumeManager:
    """One backend's RPC endpoint."""

    RPC_API_VERSION = "1.0"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 driver: driver_base.VolumeDriver | None = None,
                 scheduler_rpc: flows.SchedulerRPC | None = None,
                 image_api: flows.ImageAPI | None = None,
                 backup_rpc: flows.BackupRPC | None = None,
                 executor: concurrent.futures.Executor | None = None,
                 host: str | None = None) -> None:
        self.conf = conf
        self.host = host or backend_host(conf)
        self.backend = flows.Backend(
            conf, self.host, db, driver or drivers.load(conf),
            scheduler_rpc if scheduler_rpc is not None else rpcapi.SchedulerAPI(),
            image_api if image_api is not None else image_client.ImageAPI(conf),
            backup_rpc if backup_rpc is not None else rpcapi.BackupAPI())
        self._pool = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=int(conf.volume.max_concurrent_operations),
            thread_name_prefix="volume-op")

    @property
    def driver(self) -> driver_base.VolumeDriver:
        return self.backend.driver

    def _submit(self, func: Callable[..., None], *args: Any) -> None:
        self._pool.submit(_logged, func, self.backend, *args)

    # -- service hooks (RPCService calls them; not RPC methods) -------------------------

    def init_host(self) -> None:
        """Set the driver up, recover what a crash interrupted, report capacity."""
        self.driver.do_setup()
        self.driver.check_for_setup_error()
        ctxt = common_context.admin_context()
        recovery.recover(self.backend, ctxt, self._submit)
        self.report_capacity(ctxt)

    def cleanup_host(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- capacity -----------------------------------------------------------------------

    @rpc_service.periodic_task(_report_spacing)
    def _report_capacity(self, ctxt: Any) -> None:
        self.report_capacity(ctxt)

    def report_capacity(self, ctxt: Any) -> dict[str, Any]:
        """Measure the backend and write the report into its services row."""
        stats = self.driver.get_stats(refresh=True)
        stats["timestamp"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        services = self.backend.services
        try:
            services.update_capabilities(BINARY, self.host, stats)
        except exception.HostBinaryNotFound:
            services.register(BINARY, self.host, topic=rpcapi.VOLUME_TOPIC,
                              availability_zone=self.conf.storage_availability_zone)
            services.update_capabilities(BINARY, self.host, stats)
        return stats

    # -- casts: long work on the pool ------------------------------------------------------

    def create_volume(self, ctxt: Any, volume_id: str, request_spec: dict[str, Any],
                      filter_properties: dict[str, Any],
                      allow_reschedule: bool = True) -> None:
        self._submit(flows.create_volume, ctxt, volume_id, dict(request_spec or {}),
                     dict(filter_properties or {}), bool(allow_reschedule))

    def delete_volume(self, ctxt: Any, volume_id: str, cascade: bool = False) -> None:
        self._submit(flows.delete_volume, ctxt, volume_id, bool(cascade))

    def create_snapshot(self, ctxt: Any, snapshot_id: str) -> None:
        self._submit(flows.create_snapshot, ctxt, snapshot_id)

    def delete_snapshot(self, ctxt: Any, snapshot_id: str) -> None:
        self._submit(flows.delete_snapshot, ctxt, snapshot_id)

    def extend_volume(self, ctxt: Any, volume_id: str, new_size: int) -> None:
        self._submit(flows.extend_volume, ctxt, volume_id, int(new_size))

    def copy_volume_to_image(self, ctxt: Any, volume_id: str,
                             image_meta: dict[str, Any]) -> None:
        self._submit(images.copy_volume_to_image, ctxt, volume_id, dict(image_meta))

    def retype(self, ctxt: Any, volume_id: str, new_type_id: str) -> None:
        self._submit(flows.retype, ctxt, volume_id, new_type_id)

    # -- calls: answered inline --------------------------------------------------------------

    def _access_mode(self, volume: dict[str, Any], connector: dict[str, Any]) -> str:
        admin = volume.get("admin_metadata") or {}
        if str(admin.get("readonly", "")).lower() == "true":
            return states.ACCESS_RO
        return str(connector.get("mode") or admin.get("attached_mode") or states.ACCESS_RW)

    def initialize_connection(self, ctxt: Any, volume_id: str,
                              connector: dict[str, Any]) -> dict[str, Any]:
        """Export the volume to the connector's host; the connection info."""
        volume = self.backend.volumes.get(volume_id)
        connector = dict(connector or {})
        connector["access_mode"] = self._access_mode(volume, connector)
        with self.backend.locked(volume_id):
            info = self.driver.initialize_connection(volume, connector)
        LOG.info("Volume %(id)s connected for %(host)s",
                 {"id": volume_id, "host": connector.get("host")})
        return info

    def _release_export(self, volume: dict[str, Any], leaving: str | None,
                        host: str | None) -> None:
        """Remove the export when no other live attachment needs it."""
        others = [a for a in self.backend.attachments.attachments_of(str(volume["id"]),
                                                                   list(_LIVE_ATTACHMENTS))
                  if a["id"] != leaving and (leaving is not None or
                                             a.get("attached_host") != host)]
        if not others:
            self.driver.remove_export(volume)

    def terminate_connection(self, ctxt: Any, volume_id: str, connector: dict[str, Any],
                             force: bool = False) -> None:
        """The connector's host let go of the volume."""
        volume = self.backend.volumes.get(volume_id)
        connector = dict(connector or {})
        with self.backend.locked(volume_id):
            self.driver.terminate_connection(volume, connector)
            if not self.driver.local_consumer(connector):
                self._release_export(volume, None, connector.get("host"))

    def attachment_update(self, ctxt: Any, volume_id: str, connector: dict[str, Any],
                          attachment_id: str) -> dict[str, Any]:
        """Connect attachment ``attachment_id``: its connector and connection info
        are stored in its row; the connection info is returned."""
        info = self.initialize_connection(ctxt, volume_id, connector)
        values: dict[str, Any] = {"connector": dict(connector or {}),
                                  "connection_info": info,
                                  "attach_mode": info.get("data", {}).get("access_mode",
                                                                          states.ACCESS_RW)}
        if connector.get("host"):
            values["attached_host"] = connector["host"]
        if connector.get("mountpoint"):
            values["mountpoint"] = connector["mountpoint"]
        self.backend.attachments.update(attachment_id, values)
        return info

    def attachment_delete(self, ctxt: Any, volume_id: str, attachment_id: str) -> None:
        """Disconnect attachment ``attachment_id`` (its row stays for the API)."""
        volume = self.backend.volumes.get(volume_id)
        try:
            attachment = self.backend.attachments.get(attachment_id)
        except exception.VolumeAttachmentNotFound:
            attachment = {"connector": None}
        with self.backend.locked(volume_id):
            self.driver.terminate_connection(volume, dict(attachment.get("connector") or {}))
            self._release_export(volume, attachment_id, None)

    def get_capabilities(self, ctxt: Any) -> dict[str, Any]:
        """The backend's current capacity report and properties."""
        return self.driver.get_stats(refresh=True)

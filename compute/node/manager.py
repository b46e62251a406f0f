"""``stratus-compute-node``'s RPC endpoint (topic ``compute``, server = the host).

Every public method is one method of ``compute.rpcapi.ComputeNodeAPI`` (same
arguments, minus the routing ``host``); a test keeps the two in sync. The
manager only routes: each workflow lives in its own module of this package.
Operations on one instance serialize on its lock; builds run on a pool of
their own (``[compute] max_concurrent_builds``) so that the RPC threads stay
free for the events a build waits for.
"""
from __future__ import annotations

import concurrent.futures
from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from common import context as common_context
from common import rpc
from common import rpc_service
from compute import exception
from compute.node import base
from compute.node import build
from compute.node import delete
from compute.node import evacuate
from compute.node import guest
from compute.node import interfaces
from compute.node import live_migration
from compute.node import neighbours as neighbours_mod
from compute.node import power
from compute.node import recovery
from compute.node import rescue
from compute.node import resize
from compute.node import shelve
from compute.node import snapshot
from compute.virt import driver as virt_driver
from compute.virt import exception as virt_exception

LOG = logging.getLogger(__name__)

# Errors a ``call`` answers with on purpose (the API maps their codes).
_CALL_ERRORS = (exception.InstanceNotFound, virt_exception.InstanceNotFound,
                virt_exception.ConsoleNotAvailable, virt_exception.ConsoleLogOutputException,
                virt_exception.InstanceNotReady, virt_exception.ConsoleTypeUnavailable,
                exception.InterfaceHotplugNotSupported, exception.InterfaceAttachFailed)
# What a live migration's checks answer with on purpose (the conductor turns
# them into the API's 400).
_LIVE_CHECK_ERRORS = (exception.InstanceNotFound, virt_exception.InstanceNotFound,
                      virt_exception.MigrationPreCheckError, virt_exception.InstanceExists,
                      virt_exception.LiveMigrationNotSupported,
                      exception.ComputeResourcesUnavailable, exception.UnableToMigrateToSelf)
_UNLIMITED_BUILDS = 64


def _update_resources_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.compute.update_resources_interval)


def _sync_power_state_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.compute.sync_power_state_interval)


def _shelved_poll_spacing(conf: cfg.ConfigOpts) -> float:
    return float(conf.compute.shelved_poll_interval)


class InlineExecutor(concurrent.futures.Executor):
    """Runs submitted work at once in the caller's thread (tests, tools)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # handed to the future, as a pool would
            future.set_exception(err)
        return future


class ComputeManager:
    """The compute node's RPC endpoint."""

    RPC_API_VERSION = "1.4"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, driver: virt_driver.ComputeDriver,
                 conductor: base.Conductor, neighbours: neighbours_mod.Neighbours,
                 compute_rpc: base.ComputeRPC, host: str | None = None,
                 build_executor: concurrent.futures.Executor | None = None) -> None:
        self.conf = conf
        self.host = host or conf.host
        self.node = base.Node(conf, self.host, driver, conductor, neighbours, compute_rpc)
        if build_executor is None:
            workers = conf.compute.max_concurrent_builds or _UNLIMITED_BUILDS
            build_executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="build")
        self._builds = build_executor

    @property
    def driver(self) -> virt_driver.ComputeDriver:
        return self.node.driver

    # -- service hooks (RPCService calls them; not RPC methods) ---------------

    def init_host(self) -> None:
        recovery.init_host(self.node, _own_context())

    def cleanup_host(self) -> None:
        self._builds.shutdown(wait=False, cancel_futures=True)
        self.node.driver.cleanup_host(self.host)

    # -- periodic tasks -----------------------------------------------------------

    @rpc_service.periodic_task(_update_resources_spacing)
    def _update_available_resource(self, ctxt: Any) -> None:
        self.node.tracker.update_available_resource(ctxt)

    @rpc_service.periodic_task(_sync_power_state_spacing)
    def _sync_power_states(self, ctxt: Any) -> None:
        power.sync_power_states(self.node, ctxt)

    @rpc_service.periodic_task(_shelved_poll_spacing)
    def _poll_shelved_instances(self, ctxt: Any) -> None:
        shelve.offload_old_shelved(self.node, ctxt)

    # -- build and delete ---------------------------------------------------------

    def build_and_run_instance(self, ctxt: Any, instance_uuid: str,
                               request_spec: dict[str, Any], limits: dict[str, Any],
                               node: str) -> None:
        self._builds.submit(_logged, build.build_and_run_instance, self.node, ctxt,
                            instance_uuid, request_spec, limits, node)

    def terminate_instance(self, ctxt: Any, instance_uuid: str) -> None:
        delete.terminate_instance(self.node, ctxt, instance_uuid)

    def rebuild_instance(self, ctxt: Any, instance_uuid: str, image_ref: str,
                         preserve_ephemeral: bool = False) -> None:
        self._builds.submit(_logged, build.rebuild_instance, self.node, ctxt, instance_uuid,
                            image_ref, preserve_ephemeral)

    # -- power ------------------------------------------------------------------

    def start_instance(self, ctxt: Any, instance_uuid: str) -> None:
        power.start_instance(self.node, ctxt, instance_uuid)

    def stop_instance(self, ctxt: Any, instance_uuid: str, clean_shutdown: bool = True) -> None:
        power.stop_instance(self.node, ctxt, instance_uuid, clean_shutdown)

    def reboot_instance(self, ctxt: Any, instance_uuid: str, reboot_type: str) -> None:
        power.reboot_instance(self.node, ctxt, instance_uuid, reboot_type)

    def pause_instance(self, ctxt: Any, instance_uuid: str) -> None:
        power.pause_instance(self.node, ctxt, instance_uuid)

    def unpause_instance(self, ctxt: Any, instance_uuid: str) -> None:
        power.unpause_instance(self.node, ctxt, instance_uuid)

    def suspend_instance(self, ctxt: Any, instance_uuid: str) -> None:
        power.suspend_instance(self.node, ctxt, instance_uuid)

    def resume_instance(self, ctxt: Any, instance_uuid: str) -> None:
        power.resume_instance(self.node, ctxt, instance_uuid)

    # -- images -------------------------------------------------------------------

    def snapshot_instance(self, ctxt: Any, instance_uuid: str, image_id: str,
                          backup_type: str | None = None, rotation: int | None = None
                          ) -> None:
        snapshot.snapshot_instance(self.node, ctxt, instance_uuid, image_id, backup_type,
                                   rotation)

    # -- shelving -------------------------------------------------------------------

    def shelve_instance(self, ctxt: Any, instance_uuid: str, image_id: str | None,
                        clean_shutdown: bool = True) -> None:
        shelve.shelve_instance(self.node, ctxt, instance_uuid, image_id, clean_shutdown)

    def shelve_offload_instance(self, ctxt: Any, instance_uuid: str,
                                clean_shutdown: bool = True) -> None:
        shelve.shelve_offload_instance(self.node, ctxt, instance_uuid, clean_shutdown)

    def unshelve_instance(self, ctxt: Any, instance_uuid: str, node: str | None = None,
                          limits: dict[str, Any] | None = None) -> None:
        self._builds.submit(_logged, shelve.unshelve_instance, self.node, ctxt,
                            instance_uuid, node, limits)

    # -- resize and cold migration ------------------------------------------------

    def prep_resize(self, ctxt: Any, instance_uuid: str, flavor: dict[str, Any],
                    migration_uuid: str, node: str, limits: dict[str, Any]) -> None:
        resize.prep_resize(self.node, ctxt, instance_uuid, flavor, migration_uuid, node,
                           limits)

    def resize_instance(self, ctxt: Any, instance_uuid: str, migration_uuid: str) -> None:
        resize.resize_instance(self.node, ctxt, instance_uuid, migration_uuid)

    def finish_resize(self, ctxt: Any, instance_uuid: str, migration_uuid: str) -> None:
        resize.finish_resize(self.node, ctxt, instance_uuid, migration_uuid)

    def confirm_resize(self, ctxt: Any, instance_uuid: str, migration_uuid: str) -> None:
        resize.confirm_resize(self.node, ctxt, instance_uuid, migration_uuid)

    def revert_resize(self, ctxt: Any, instance_uuid: str, migration_uuid: str) -> None:
        resize.revert_resize(self.node, ctxt, instance_uuid, migration_uuid)

    def finish_revert_resize(self, ctxt: Any, instance_uuid: str,
                             migration_uuid: str) -> None:
        resize.finish_revert_resize(self.node, ctxt, instance_uuid, migration_uuid)

    # -- live migration and evacuation (1.2) ----------------------------------------

    @rpc.expected(*_LIVE_CHECK_ERRORS)
    def check_can_live_migrate_destination(self, ctxt: Any, instance_uuid: str,
                                           migration_uuid: str,
                                           block_migration: bool | None,
                                           limits: dict[str, Any]) -> dict[str, Any]:
        return live_migration.check_can_live_migrate_destination(
            self.node, ctxt, instance_uuid, migration_uuid, block_migration, limits)

    @rpc.expected(*_LIVE_CHECK_ERRORS)
    def check_can_live_migrate_source(self, ctxt: Any, instance_uuid: str,
                                      dest_check_data: dict[str, Any]) -> dict[str, Any]:
        return live_migration.check_can_live_migrate_source(self.node, ctxt, instance_uuid,
                                                            dest_check_data)

    @rpc.expected(*_LIVE_CHECK_ERRORS)
    def pre_live_migration(self, ctxt: Any, instance_uuid: str, migration_uuid: str,
                           migrate_data: dict[str, Any]) -> dict[str, Any]:
        return live_migration.pre_live_migration(self.node, ctxt, instance_uuid,
                                                 migration_uuid, migrate_data)

    def live_migration(self, ctxt: Any, instance_uuid: str, migration_uuid: str, dest: str,
                       migrate_data: dict[str, Any]) -> None:
        live_migration.live_migration(self.node, ctxt, instance_uuid, migration_uuid, dest,
                                      migrate_data)

    def post_live_migration_at_destination(self, ctxt: Any, instance_uuid: str,
                                           migration_uuid: str,
                                           migrate_data: dict[str, Any]) -> None:
        live_migration.post_live_migration_at_destination(self.node, ctxt, instance_uuid,
                                                          migration_uuid, migrate_data)

    def rollback_live_migration_at_destination(self, ctxt: Any, instance_uuid: str,
                                               migration_uuid: str,
                                               migrate_data: dict[str, Any]) -> None:
        live_migration.rollback_live_migration_at_destination(
            self.node, ctxt, instance_uuid, migration_uuid, migrate_data)

    def live_migration_abort(self, ctxt: Any, instance_uuid: str, migration_uuid: str) -> None:
        live_migration.live_migration_abort(self.node, ctxt, instance_uuid, migration_uuid)

    def live_migration_force_complete(self, ctxt: Any, instance_uuid: str,
                                      migration_uuid: str) -> None:
        live_migration.live_migration_force_complete(self.node, ctxt, instance_uuid,
                                                     migration_uuid)

    def evacuate_instance(self, ctxt: Any, instance_uuid: str, migration_uuid: str,
                          node: str | None, limits: dict[str, Any] | None) -> None:
        self._builds.submit(_logged, evacuate.evacuate_instance, self.node, ctxt,
                            instance_uuid, migration_uuid, node, limits)

    def check_instance_shared_storage(self, ctxt: Any, name: str) -> bool:
        return self.node.driver.check_shared_storage_test_file(name)

    # -- looking at the guest (calls) ---------------------------------------------

    @rpc.expected(*_CALL_ERRORS)
    def get_console_output(self, ctxt: Any, instance_uuid: str,
                           tail_length: int | None = None) -> str:
        return guest.get_console_output(self.node, ctxt, instance_uuid, tail_length)

    @rpc.expected(*_CALL_ERRORS)
    def get_vnc_console(self, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
        return guest.get_vnc_console(self.node, ctxt, instance_uuid)

    @rpc.expected(*_CALL_ERRORS)
    def get_diagnostics(self, ctxt: Any, instance_uuid: str,
                        standard: bool = True) -> dict[str, Any]:
        if not standard:
            return guest.get_driver_diagnostics(self.node, ctxt, instance_uuid)
        return guest.get_diagnostics(self.node, ctxt, instance_uuid)

    # -- the host -------------------------------------------------------------------

    @rpc.expected(virt_exception.HostUptimeNotSupported)
    def get_host_uptime(self, ctxt: Any) -> str:
        return self.node.driver.get_host_uptime()

    # -- rescue ---------------------------------------------------------------------

    def rescue_instance(self, ctxt: Any, instance_uuid: str, rescue_password: str | None,
                        rescue_image_ref: str | None, clean_shutdown: bool = True) -> None:
        # A rescue boots a guest: it runs on the build pool, off the RPC threads.
        self._builds.submit(_logged, rescue.rescue_instance, self.node, ctxt, instance_uuid,
                            rescue_password, rescue_image_ref, clean_shutdown)

    def unrescue_instance(self, ctxt: Any, instance_uuid: str) -> None:
        rescue.unrescue_instance(self.node, ctxt, instance_uuid)

    # -- events, interfaces, volumes ------------------------------------------------

    def external_instance_event(self, ctxt: Any, events: list[dict[str, Any]]) -> None:
        interfaces.external_instance_event(self.node, ctxt, events)

    @rpc.expected(*_CALL_ERRORS, exception.PortNotFound, exception.PortInUse,
                  exception.NetworkNotFound, exception.FixedIpAlreadyInUse,
                  exception.InvalidFixedIp, exception.NoMoreFixedIps,
                  exception.NetworkAmbiguous, exception.PortLimitExceeded)
    def attach_interface(self, ctxt: Any, instance_uuid: str, network_id: str | None,
                         port_id: str | None, fixed_ip: str | None) -> dict[str, Any]:
        return interfaces.attach_interface(self.node, ctxt, instance_uuid, network_id,
                                           port_id, fixed_ip)

    def detach_interface(self, ctxt: Any, instance_uuid: str, port_id: str) -> None:
        interfaces.detach_interface(self.node, ctxt, instance_uuid, port_id)

    def attach_volume(self, ctxt: Any, instance_uuid: str, bdm_uuid: str) -> None:
        _cast_boundary(self.node, ctxt, instance_uuid, "attach volume",
                       guest.attach_volume, self.node, ctxt, instance_uuid, bdm_uuid)

    def detach_volume(self, ctxt: Any, instance_uuid: str, volume_id: str,
                      attachment_id: str | None) -> None:
        _cast_boundary(self.node, ctxt, instance_uuid, "detach volume",
                       guest.detach_volume, self.node, ctxt, instance_uuid, volume_id,
                       attachment_id)


def _own_context() -> common_context.RequestContext:
    return common_context.admin_context()


def _logged(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except Exception:  # the boundary of a pooled cast
        LOG.exception("%s failed", getattr(func, "__name__", func))


def _cast_boundary(node: base.Node, ctxt: Any, instance_uuid: str, what: str, func: Any,
                   *args: Any) -> None:
    try:
        func(*args)
    except exception.InstanceNotFound:
        LOG.info("Cannot %(what)s: instance %(uuid)s is gone", {"what": what,
                                                               "uuid": instance_uuid})
    except Exception as err:
        LOG.warning("Could not %(what)s of instance %(uuid)s: %(err)s",
                    {"what": what, "uuid": instance_uuid, "err": err})
        node.fault(ctxt, instance_uuid, err)

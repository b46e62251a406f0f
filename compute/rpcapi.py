"""Clients of the compute service's RPC endpoints (the contract between its daemons).

Three servers, one topic each:

* ``compute-conductor`` (:class:`ConductorAPI`): build orchestration for the API
  (``build_instances``, ``migrate_server``, ``reschedule``) and the database on
  behalf of the compute nodes, which hold no database credentials.
* ``compute-scheduler`` (:class:`SchedulerAPI`): ``select_destinations``.
* ``compute`` with ``server=<host>`` (:class:`ComputeNodeAPI`): what one compute
  node does to its guests.

Every argument and result is JSON-ready (instances travel as the dicts of
compute/db/instances.py). ``call`` is used where the caller needs the answer,
``cast`` for long work whose progress lives in the instance's states.
"""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import rpc

# Modules whose exceptions every compute daemon re-raises with their real type
# (and HTTP code) when an RPC call fails on the other side.
EXMODS = ["compute.exception", "compute.virt.exception", "compute.migration_exception"]
CONDUCTOR_TOPIC = "compute-conductor"
SCHEDULER_TOPIC = "compute-scheduler"
COMPUTE_TOPIC = "compute"
TIMEOUT = 60
# select_destinations and console calls may take a while on a loaded cloud.
SCHEDULE_TIMEOUT = 120
# A live migration's checks: a scheduling and two node calls.
LIVE_MIGRATE_TIMEOUT = 300
# pre_live_migration may fetch base images for a block migration.
PRE_LIVE_MIGRATION_TIMEOUT = 600


def _set(**flags: bool) -> dict[str, bool]:
    """The flags that are set (those left out keep an older server's defaults)."""
    return {name: True for name, value in flags.items() if value}


class _Client:
    TOPIC = ""
    RPC_API_VERSION = "1.0"

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._client = rpc.get_client(messaging.Target(topic=self.TOPIC, version="1.0"),
                                      timeout=timeout)

    def _prepare(self, server: str | None = None, timeout: float | None = None,
                 version: str = "1.0") -> Any:
        kwargs: dict[str, Any] = {"version": version,
                                  "timeout": timeout if timeout is not None else self._timeout}
        if server is not None:
            kwargs["server"] = server
        return self._client.prepare(**kwargs)


class ConductorAPI(_Client):
    """Client of ``stratus-compute-conductor`` (topic ``compute-conductor``).

    History:
      1.0 - Initial: build_instances, reschedule, migrate_server, confirm/revert
            resize helpers; the nodes' database access (instance_get,
            instance_update, instance_get_all_by_host, instance_destroy,
            instance_fault_create, action_event_start/finish, service_report,
            compute_node_update, bdm_get_by_instance, bdm_update, migration_update)
      1.1 - unshelve_instance
      1.2 - bdm_destroy
      1.3 - live_migrate_instance, evacuate_instance; migration_get_all_by_source
      1.4 - instance_update: action_event and node_resources (a build's state
            change, its action event and its claim's report in one call)
      1.5 - live_migrate_instance: force, async_; evacuate_instance: force
            (sent as 1.3 while they keep their defaults)
    """

    TOPIC = CONDUCTOR_TOPIC
    RPC_API_VERSION = "1.5"

    # -- for the API
    def build_instances(self, ctxt: Any, instance_uuids: list[str],
                        request_spec: dict[str, Any]) -> None:
        """Schedule and build these instances (one request's, same spec); cast.

        ``request_spec``: the instances' flavor, image, availability_zone,
        scheduler_hints, group (uuid), requested networks, security groups,
        block_device_mapping, num_instances, ignore_hosts, force_hosts/nodes.
        """
        self._prepare().cast(ctxt, "build_instances", instance_uuids=instance_uuids,
                             request_spec=request_spec)

    def migrate_server(self, ctxt: Any, instance_uuid: str, flavor: dict[str, Any] | None,
                       host: str | None = None) -> None:
        """Resize (``flavor`` set) or cold-migrate (``flavor`` None, optional target
        ``host``): schedule a destination, then prep_resize there; cast."""
        self._prepare().cast(ctxt, "migrate_server", instance_uuid=instance_uuid,
                             flavor=flavor, host=host)

    def unshelve_instance(self, ctxt: Any, instance_uuid: str) -> None:
        """Unshelve a shelved_offloaded instance (task_state ``unshelving``):
        schedule it again with its request spec and the shelved image, then
        cast ``unshelve_instance`` to the chosen node; cast."""
        self._prepare(version="1.1").cast(ctxt, "unshelve_instance",
                                          instance_uuid=instance_uuid)

    def live_migrate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                              block_migration: bool | None,
                              disk_over_commit: bool | None, force: bool = False,
                              async_: bool = False) -> None:
        """Check and start a live migration (the API set task_state ``migrating``):
        the destination (``host``, through the scheduler's filters unless
        ``force``, or the scheduler's choice) and both nodes' checks, then cast
        ``live_migration`` to the source. A call (Nova's behaviour before
        microversion 2.34), answering once the migration is queued and raising
        the checks' errors (MigrationPreCheckError, NoValidHostForMove,
        DestinationHostNotFound/Unavailable, UnableToMigrateToSelf: the API's
        400; ComputeServiceUnavailable: 503); with ``async_`` (2.34) a cast."""
        extra = _set(force=force, async_=async_)
        client = self._prepare(version="1.5" if extra else "1.3",
                               timeout=LIVE_MIGRATE_TIMEOUT)
        send = client.cast if async_ else client.call
        send(ctxt, "live_migrate_instance", instance_uuid=instance_uuid, host=host,
             block_migration=block_migration, disk_over_commit=disk_over_commit, **extra)

    def evacuate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                          force: bool = False) -> None:
        """Rebuild the instance of a failed host elsewhere (the API set task_state
        ``rebuilding``): record the evacuation, schedule (``host``, through the
        scheduler's filters unless ``force``, or the scheduler's choice), cast
        ``evacuate_instance`` to that node; cast."""
        extra = _set(force=force)
        self._prepare(version="1.5" if extra else "1.3").cast(
            ctxt, "evacuate_instance", instance_uuid=instance_uuid, host=host, **extra)

    # -- for the nodes
    def reschedule(self, ctxt: Any, instance_uuid: str, failed_host: str,
                   reason: str) -> None:
        """A build failed on ``failed_host``: try the next alternate (or fail the
        instance with a fault when attempts are used up); cast."""
        self._prepare().cast(ctxt, "reschedule", instance_uuid=instance_uuid,
                             failed_host=failed_host, reason=reason)

    def instance_get(self, ctxt: Any, instance_uuid: str,
                     read_deleted: bool = False) -> dict[str, Any]:
        return dict(self._prepare().call(ctxt, "instance_get", instance_uuid=instance_uuid,
                                         read_deleted=read_deleted))

    def instance_update(self, ctxt: Any, instance_uuid: str, values: dict[str, Any],
                        expected_task_state: Any = "__any__",
                        expected_vm_state: list[str] | None = None,
                        action_event: dict[str, Any] | None = None,
                        node_resources: dict[str, Any] | None = None) -> dict[str, Any]:
        """Compare-and-set update (InstanceStore.update); ``"__any__"`` skips the
        task-state check. Raises InstanceNotFound / UnexpectedTaskStateError.

        1.4: ``action_event`` (``request_id``, ``event``, ``host``; plus ``result``
        and ``traceback`` to finish it) is started or finished in the update's
        transaction once the update succeeded; ``node_resources`` (``host``,
        ``resources``: what ``compute_node_update`` takes) is recorded first,
        whatever the update does.
        """
        kwargs: dict[str, Any] = {"instance_uuid": instance_uuid, "values": values,
                                  "expected_task_state": expected_task_state,
                                  "expected_vm_state": expected_vm_state}
        version = "1.0"
        if action_event is not None or node_resources is not None:
            version = "1.4"
            kwargs.update(action_event=action_event, node_resources=node_resources)
        return dict(self._prepare(version=version).call(ctxt, "instance_update", **kwargs))

    def instance_get_all_by_host(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        return list(self._prepare().call(ctxt, "instance_get_all_by_host", host=host))

    def instance_destroy(self, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
        """Soft-delete the instance (after the node removed the guest)."""
        return dict(self._prepare().call(ctxt, "instance_destroy",
                                         instance_uuid=instance_uuid))

    def instance_fault_create(self, ctxt: Any, instance_uuid: str, code: int, message: str,
                              details: str | None, host: str | None) -> None:
        self._prepare().call(ctxt, "instance_fault_create", instance_uuid=instance_uuid,
                             code=code, message=message, details=details, host=host)

    def action_event_start(self, ctxt: Any, instance_uuid: str, request_id: str,
                           event: str, host: str | None) -> None:
        self._prepare().call(ctxt, "action_event_start", instance_uuid=instance_uuid,
                             request_id=request_id, event=event, host=host)

    def action_event_finish(self, ctxt: Any, instance_uuid: str, request_id: str,
                            event: str, result: str, traceback: str | None,
                            host: str | None) -> None:
        self._prepare().call(ctxt, "action_event_finish", instance_uuid=instance_uuid,
                             request_id=request_id, event=event, result=result,
                             traceback=traceback, host=host)

    def service_report(self, ctxt: Any, binary: str, host: str, topic: str) -> None:
        """Record a heartbeat of ``binary`` on ``host`` (services table)."""
        self._prepare().call(ctxt, "service_report", binary=binary, host=host, topic=topic)

    def compute_node_update(self, ctxt: Any, host: str,
                            resources: dict[str, Any]) -> dict[str, Any]:
        """Create or update the node's compute_nodes row (HostResources.to_dict()
        plus running_vms and allocation ratios); returns the row."""
        return dict(self._prepare().call(ctxt, "compute_node_update", host=host,
                                         resources=resources))

    def bdm_get_by_instance(self, ctxt: Any, instance_uuid: str) -> list[dict[str, Any]]:
        return list(self._prepare().call(ctxt, "bdm_get_by_instance",
                                         instance_uuid=instance_uuid))

    def bdm_update(self, ctxt: Any, bdm_uuid: str, values: dict[str, Any]) -> dict[str, Any]:
        return dict(self._prepare().call(ctxt, "bdm_update", bdm_uuid=bdm_uuid,
                                         values=values))

    def bdm_destroy(self, ctxt: Any, bdm_uuid: str) -> None:
        self._prepare(version="1.2").call(ctxt, "bdm_destroy", bdm_uuid=bdm_uuid)

    def migration_update(self, ctxt: Any, migration_uuid: str,
                         values: dict[str, Any]) -> dict[str, Any]:
        return dict(self._prepare().call(ctxt, "migration_update",
                                         migration_uuid=migration_uuid, values=values))

    def migration_get_all_by_source(self, ctxt: Any, host: str, migration_type: str,
                                    statuses: list[str]) -> list[dict[str, Any]]:
        """The migrations of ``migration_type`` away from ``host`` in ``statuses``."""
        return list(self._prepare(version="1.3").call(
            ctxt, "migration_get_all_by_source", host=host, migration_type=migration_type,
            statuses=statuses))


class SchedulerAPI(_Client):
    """Client of ``stratus-compute-scheduler`` (topic ``compute-scheduler``).

    History:
      1.0 - Initial: select_destinations
    """

    TOPIC = SCHEDULER_TOPIC

    def select_destinations(self, ctxt: Any, request_spec: dict[str, Any],
                            instance_uuids: list[str]) -> list[dict[str, Any]]:
        """One selection per instance: ``{"host", "node", "limits", "alternates":
        [{"host", "node", "limits"}, ...]}``. The scheduler records each
        instance's host/node before answering, so the next request sees the use.
        Raises NoValidHost (its message says which filter removed how many hosts)."""
        return list(self._prepare(timeout=SCHEDULE_TIMEOUT).call(
            ctxt, "select_destinations", request_spec=request_spec,
            instance_uuids=instance_uuids))


class ComputeNodeAPI(_Client):
    """Client of one ``stratus-compute-node`` (topic ``compute``, server = its host).

    History:
      1.0 - Initial: build_and_run_instance, terminate_instance, start/stop,
            reboot, pause/unpause, suspend/resume, rebuild, snapshot, resize
            (prep/resize/finish/confirm/revert), console output and VNC,
            external events, interfaces, volumes
      1.1 - shelve_instance, shelve_offload_instance, unshelve_instance;
            get_diagnostics(standard)
      1.2 - live migration (check_can_live_migrate_destination/source,
            pre_live_migration, live_migration, post_live_migration_at_destination,
            rollback_live_migration_at_destination, live_migration_abort,
            live_migration_force_complete); evacuate_instance,
            check_instance_shared_storage
      1.3 - rescue_instance, unrescue_instance
      1.4 - get_host_uptime
    """

    TOPIC = COMPUTE_TOPIC
    RPC_API_VERSION = "1.4"

    def _cast(self, ctxt: Any, host: str, method: str, version: str = "1.0",
              **kwargs: Any) -> None:
        self._prepare(server=host, version=version).cast(ctxt, method, **kwargs)

    def _call(self, ctxt: Any, host: str, method: str, timeout: float | None = None,
              version: str = "1.0", **kwargs: Any) -> Any:
        return self._prepare(server=host, timeout=timeout, version=version).call(
            ctxt, method, **kwargs)

    def build_and_run_instance(self, ctxt: Any, host: str, instance_uuid: str,
                               request_spec: dict[str, Any], limits: dict[str, Any],
                               node: str) -> None:
        self._cast(ctxt, host, "build_and_run_instance", instance_uuid=instance_uuid,
                   request_spec=request_spec, limits=limits, node=node)

    def terminate_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "terminate_instance", instance_uuid=instance_uuid)

    def start_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "start_instance", instance_uuid=instance_uuid)

    def stop_instance(self, ctxt: Any, host: str, instance_uuid: str,
                      clean_shutdown: bool = True) -> None:
        self._cast(ctxt, host, "stop_instance", instance_uuid=instance_uuid,
                   clean_shutdown=clean_shutdown)

    def reboot_instance(self, ctxt: Any, host: str, instance_uuid: str,
                        reboot_type: str) -> None:
        self._cast(ctxt, host, "reboot_instance", instance_uuid=instance_uuid,
                   reboot_type=reboot_type)

    def pause_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "pause_instance", instance_uuid=instance_uuid)

    def unpause_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "unpause_instance", instance_uuid=instance_uuid)

    def suspend_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "suspend_instance", instance_uuid=instance_uuid)

    def resume_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        self._cast(ctxt, host, "resume_instance", instance_uuid=instance_uuid)

    def rebuild_instance(self, ctxt: Any, host: str, instance_uuid: str, image_ref: str,
                         preserve_ephemeral: bool = False) -> None:
        self._cast(ctxt, host, "rebuild_instance", instance_uuid=instance_uuid,
                   image_ref=image_ref, preserve_ephemeral=preserve_ephemeral)

    def snapshot_instance(self, ctxt: Any, host: str, instance_uuid: str, image_id: str,
                          backup_type: str | None = None, rotation: int | None = None
                          ) -> None:
        """Snapshot into the (queued) image ``image_id``; with ``backup_type`` and
        ``rotation`` keep only the newest ``rotation`` backups of that type."""
        self._cast(ctxt, host, "snapshot_instance", instance_uuid=instance_uuid,
                   image_id=image_id, backup_type=backup_type, rotation=rotation)

    def prep_resize(self, ctxt: Any, host: str, instance_uuid: str, flavor: dict[str, Any],
                    migration_uuid: str, node: str, limits: dict[str, Any]) -> None:
        """On the destination: claim ``flavor`` there, then ask the source to resize."""
        self._cast(ctxt, host, "prep_resize", instance_uuid=instance_uuid, flavor=flavor,
                   migration_uuid=migration_uuid, node=node, limits=limits)

    def resize_instance(self, ctxt: Any, host: str, instance_uuid: str,
                        migration_uuid: str) -> None:
        """On the source: power off and hand the disks over to the destination."""
        self._cast(ctxt, host, "resize_instance", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid)

    def finish_resize(self, ctxt: Any, host: str, instance_uuid: str,
                      migration_uuid: str) -> None:
        """On the destination: start the guest with the new flavor (VERIFY_RESIZE)."""
        self._cast(ctxt, host, "finish_resize", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid)

    def confirm_resize(self, ctxt: Any, host: str, instance_uuid: str,
                       migration_uuid: str) -> None:
        """On the source: drop the old guest and its claim."""
        self._cast(ctxt, host, "confirm_resize", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid)

    def revert_resize(self, ctxt: Any, host: str, instance_uuid: str,
                      migration_uuid: str) -> None:
        """On the destination: drop the new guest, then finish the revert on the source."""
        self._cast(ctxt, host, "revert_resize", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid)

    def finish_revert_resize(self, ctxt: Any, host: str, instance_uuid: str,
                             migration_uuid: str) -> None:
        self._cast(ctxt, host, "finish_revert_resize", instance_uuid=instance_uuid,
                   migration_uuid=migration_uuid)

    def get_console_output(self, ctxt: Any, host: str, instance_uuid: str,
                           tail_length: int | None = None) -> str:
        return str(self._call(ctxt, host, "get_console_output", instance_uuid=instance_uuid,
                              tail_length=tail_length))

    def get_vnc_console(self, ctxt: Any, host: str, instance_uuid: str) -> dict[str, Any]:
        """``{"host", "port"}`` of the guest's VNC server on that node."""
        return dict(self._call(ctxt, host, "get_vnc_console", instance_uuid=instance_uuid))

    def get_diagnostics(self, ctxt: Any, host: str, instance_uuid: str,
                        standard: bool = True) -> dict[str, Any]:
        """Nova's standard diagnostics (the 2.48 shape) or, ``standard`` False
        (1.1), the driver's own free-form dict (the shape before 2.48)."""
        if standard:
            return dict(self._call(ctxt, host, "get_diagnostics",
                                   instance_uuid=instance_uuid))
        return dict(self._prepare(server=host, version="1.1").call(
            ctxt, "get_diagnostics", instance_uuid=instance_uuid, standard=False))

    def get_host_uptime(self, ctxt: Any, host: str) -> str:
        """The host's uptime(1) line (1.4). Raises HostUptimeNotSupported (501) when
        the node's driver cannot tell; a node older than 1.4 answers with an
        oslo.messaging UnsupportedVersion (a RemoteError here)."""
        return str(self._call(ctxt, host, "get_host_uptime", version="1.4"))

    # -- shelving (1.1)
    def shelve_instance(self, ctxt: Any, host: str, instance_uuid: str,
                        image_id: str | None, clean_shutdown: bool = True) -> None:
        """Snapshot into the (queued) image ``image_id`` (None: volume-backed, no
        snapshot), power off: vm_state ``shelved``; offload at once when
        ``[compute] shelved_offload_time`` is 0."""
        self._prepare(server=host, version="1.1").cast(
            ctxt, "shelve_instance", instance_uuid=instance_uuid, image_id=image_id,
            clean_shutdown=clean_shutdown)

    def shelve_offload_instance(self, ctxt: Any, host: str, instance_uuid: str,
                                clean_shutdown: bool = True) -> None:
        """Remove a shelved instance from its host (guest, port bindings, claim):
        vm_state ``shelved_offloaded``, no host."""
        self._prepare(server=host, version="1.1").cast(
            ctxt, "shelve_offload_instance", instance_uuid=instance_uuid,
            clean_shutdown=clean_shutdown)

    def unshelve_instance(self, ctxt: Any, host: str, instance_uuid: str,
                          node: str | None = None,
                          limits: dict[str, Any] | None = None) -> None:
        """Shelved: power the kept guest on. Shelved-offloaded (the conductor
        scheduled it here): claim, spawn from the shelved image, bind the
        ports here. Then delete the shelved image: vm_state ``active``."""
        self._prepare(server=host, version="1.1").cast(
            ctxt, "unshelve_instance", instance_uuid=instance_uuid, node=node,
            limits=limits)

    # -- live migration and evacuation (1.2)
    def check_can_live_migrate_destination(self, ctxt: Any, host: str, instance_uuid: str,
                                           migration_uuid: str,
                                           block_migration: bool | None,
                                           limits: dict[str, Any]) -> dict[str, Any]:
        """On the destination: claim the instance's flavor for the migration and
        ask the driver; what the source's check needs."""
        return dict(self._call(
            ctxt, host, "check_can_live_migrate_destination", version="1.2",
            instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, block_migration=block_migration, limits=limits))

    def check_can_live_migrate_source(self, ctxt: Any, host: str, instance_uuid: str,
                                      dest_check_data: dict[str, Any]) -> dict[str, Any]:
        """On the source: the driver's check; the migrate_data of the migration."""
        return dict(self._call(
            ctxt, host, "check_can_live_migrate_source", version="1.2",
            instance_uuid=instance_uuid,
            dest_check_data=dest_check_data))

    def pre_live_migration(self, ctxt: Any, host: str, instance_uuid: str,
                           migration_uuid: str,
                           migrate_data: dict[str, Any]) -> dict[str, Any]:
        """On the destination (from the source): ports bound and volumes exported
        there, the driver ready; the migrate_data extended."""
        return dict(self._call(
            ctxt, host, "pre_live_migration", timeout=PRE_LIVE_MIGRATION_TIMEOUT,
            version="1.2", instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, migrate_data=migrate_data))

    def live_migration(self, ctxt: Any, host: str, instance_uuid: str, migration_uuid: str,
                       dest: str, migrate_data: dict[str, Any]) -> None:
        """On the source: run the live migration to ``dest``; cast."""
        self._cast(
            ctxt, host, "live_migration", version="1.2", instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, dest=dest, migrate_data=migrate_data)

    def post_live_migration_at_destination(self, ctxt: Any, host: str, instance_uuid: str,
                                           migration_uuid: str,
                                           migrate_data: dict[str, Any]) -> None:
        """On the destination: the guest arrived; finish (task_state None,
        migration completed); cast."""
        self._cast(
            ctxt, host, "post_live_migration_at_destination", version="1.2",
            instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, migrate_data=migrate_data)

    def rollback_live_migration_at_destination(self, ctxt: Any, host: str,
                                               instance_uuid: str, migration_uuid: str,
                                               migrate_data: dict[str, Any]) -> None:
        """On the destination: undo what the checks and pre_live_migration did
        there, release the claim; cast."""
        self._cast(
            ctxt, host, "rollback_live_migration_at_destination", version="1.2",
            instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, migrate_data=migrate_data)

    def live_migration_abort(self, ctxt: Any, host: str, instance_uuid: str,
                             migration_uuid: str) -> None:
        """On the source: stop the running migration (it rolls back); cast."""
        self._cast(
            ctxt, host, "live_migration_abort", version="1.2", instance_uuid=instance_uuid,
            migration_uuid=migration_uuid)

    def live_migration_force_complete(self, ctxt: Any, host: str, instance_uuid: str,
                                      migration_uuid: str) -> None:
        """On the source: pause the guest so the running migration converges; cast."""
        self._cast(
            ctxt, host, "live_migration_force_complete", version="1.2", instance_uuid=instance_uuid,
            migration_uuid=migration_uuid)

    def evacuate_instance(self, ctxt: Any, host: str, instance_uuid: str,
                          migration_uuid: str, node: str | None,
                          limits: dict[str, Any] | None) -> None:
        """On the chosen node: rebuild the evacuated instance there; cast."""
        self._cast(
            ctxt, host, "evacuate_instance", version="1.2", instance_uuid=instance_uuid,
            migration_uuid=migration_uuid, node=node, limits=limits)

    def check_instance_shared_storage(self, ctxt: Any, host: str, name: str) -> bool:
        """Whether ``host`` sees the test file ``name`` another node created."""
        return bool(self._call(ctxt, host, "check_instance_shared_storage", version="1.2",
                               name=name))

    # -- rescue (1.3)
    def rescue_instance(self, ctxt: Any, host: str, instance_uuid: str,
                        rescue_password: str | None, rescue_image_ref: str | None,
                        clean_shutdown: bool = True) -> None:
        """Power the guest off and boot ``rescue_image_ref`` (None: the server's
        own image) with the server's root disk attached second (task_state
        ``rescuing`` -> vm_state ``rescued``)."""
        self._cast(ctxt, host, "rescue_instance", version="1.3", instance_uuid=instance_uuid,
                   rescue_password=rescue_password, rescue_image_ref=rescue_image_ref,
                   clean_shutdown=clean_shutdown)

    def unrescue_instance(self, ctxt: Any, host: str, instance_uuid: str) -> None:
        """Put the server's own guest back and start it (task_state
        ``unrescuing`` -> vm_state ``active``)."""
        self._cast(ctxt, host, "unrescue_instance", version="1.3",
                   instance_uuid=instance_uuid)

    def external_instance_event(self, ctxt: Any, host: str,
                                events: list[dict[str, Any]]) -> None:
        """``network-vif-plugged`` & co. for instances on ``host``: each event is
        ``{"name", "tag", "status", "server_uuid"}``."""
        self._cast(ctxt, host, "external_instance_event", events=events)

    def attach_interface(self, ctxt: Any, host: str, instance_uuid: str,
                         network_id: str | None, port_id: str | None,
                         fixed_ip: str | None) -> dict[str, Any]:
        return dict(self._call(ctxt, host, "attach_interface", timeout=300,
                               instance_uuid=instance_uuid, network_id=network_id,
                               port_id=port_id, fixed_ip=fixed_ip))

    def detach_interface(self, ctxt: Any, host: str, instance_uuid: str, port_id: str) -> None:
        self._cast(ctxt, host, "detach_interface", instance_uuid=instance_uuid,
                   port_id=port_id)

    def attach_volume(self, ctxt: Any, host: str, instance_uuid: str, bdm_uuid: str) -> None:
        self._cast(ctxt, host, "attach_volume", instance_uuid=instance_uuid,
                   bdm_uuid=bdm_uuid)

    def detach_volume(self, ctxt: Any, host: str, instance_uuid: str, volume_id: str,
                      attachment_id: str | None) -> None:
        self._cast(ctxt, host, "detach_volume", instance_uuid=instance_uuid,
                   volume_id=volume_id, attachment_id=attachment_id)

"""What the node's workflows share.

:class:`Node` bundles one compute node's configuration, driver, conductor
client, neighbour services, resource tracker, event waiters and per-instance
locks, plus the chores every workflow repeats: compare-and-set instance
updates, faults, instance action events, and turning instance rows into the
driver's model (``compute.virt.model``).
"""
from __future__ import annotations

import contextlib
import datetime
import threading
import traceback
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from compute import exception
from compute import states
from compute.node import events as events_mod
from compute.node import neighbours as neighbours_mod
from compute.node import resource_tracker
from compute.virt import driver as virt_driver
from compute.virt import exception as virt_exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.power_state import PowerState

LOG = logging.getLogger(__name__)

#: ``expected_task_state`` that skips the check (ConductorAPI.instance_update).
ANY = "__any__"
BINARY = "stratus-compute-node"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
DEFAULT_ROOT_DEVICE = "/dev/vda"


class Conductor(Protocol):
    """The ConductorAPI methods the node uses (compute/rpcapi.py)."""

    def instance_get(self, ctxt: Any, instance_uuid: str,
                     read_deleted: bool = False) -> dict[str, Any]: ...

    def instance_update(self, ctxt: Any, instance_uuid: str, values: dict[str, Any],
                        expected_task_state: Any = ANY,
                        expected_vm_state: list[str] | None = None,
                        action_event: dict[str, Any] | None = None,
                        node_resources: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def instance_get_all_by_host(self, ctxt: Any, host: str) -> list[dict[str, Any]]: ...

    def instance_destroy(self, ctxt: Any, instance_uuid: str) -> dict[str, Any]: ...

    def instance_fault_create(self, ctxt: Any, instance_uuid: str, code: int, message: str,
                              details: str | None, host: str | None) -> None: ...

    def action_event_start(self, ctxt: Any, instance_uuid: str, request_id: str,
                           event: str, host: str | None) -> None: ...

    def action_event_finish(self, ctxt: Any, instance_uuid: str, request_id: str,
                            event: str, result: str, traceback: str | None,
                            host: str | None) -> None: ...

    def compute_node_update(self, ctxt: Any, host: str,
                            resources: dict[str, Any]) -> dict[str, Any]: ...

    def bdm_get_by_instance(self, ctxt: Any, instance_uuid: str) -> list[dict[str, Any]]: ...

    def bdm_update(self, ctxt: Any, bdm_uuid: str, values: dict[str, Any]) -> dict[str, Any]: ...

    def bdm_destroy(self, ctxt: Any, bdm_uuid: str) -> None: ...

    def migration_update(self, ctxt: Any, migration_uuid: str,
                         values: dict[str, Any]) -> dict[str, Any]: ...

    def reschedule(self, ctxt: Any, instance_uuid: str, failed_host: str,
                   reason: str) -> None: ...

    def migration_get_all_by_source(self, ctxt: Any, host: str, migration_type: str,
                                    statuses: list[str]) -> list[dict[str, Any]]: ...


class ComputeRPC(Protocol):
    """The ComputeNodeAPI calls one node makes to another (the hand-offs of a
    resize and a live migration, the shared-storage check of an evacuation)."""

    def resize_instance(self, ctxt: Any, host: str, instance_uuid: str,
                        migration_uuid: str) -> None: ...

    def finish_resize(self, ctxt: Any, host: str, instance_uuid: str,
                      migration_uuid: str) -> None: ...

    def finish_revert_resize(self, ctxt: Any, host: str, instance_uuid: str,
                             migration_uuid: str) -> None: ...

    def pre_live_migration(self, ctxt: Any, host: str, instance_uuid: str,
                           migration_uuid: str,
                           migrate_data: dict[str, Any]) -> dict[str, Any]: ...

    def post_live_migration_at_destination(self, ctxt: Any, host: str, instance_uuid: str,
                                           migration_uuid: str,
                                           migrate_data: dict[str, Any]) -> None: ...

    def rollback_live_migration_at_destination(self, ctxt: Any, host: str,
                                               instance_uuid: str, migration_uuid: str,
                                               migrate_data: dict[str, Any]) -> None: ...

    def check_instance_shared_storage(self, ctxt: Any, host: str, name: str) -> bool: ...


class InstanceLocks:
    """One re-entrant lock per instance uuid, dropped when nobody holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.RLock, int]] = {}

    @contextlib.contextmanager
    def __call__(self, instance_uuid: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._locks.get(instance_uuid, (threading.RLock(), 0))
            self._locks[instance_uuid] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._locks[instance_uuid]
                if users <= 1:
                    del self._locks[instance_uuid]
                else:
                    self._locks[instance_uuid] = (lock, users - 1)

    def held(self) -> int:
        with self._lock:
            return len(self._locks)


def now() -> str:
    """The current UTC time as the instance store writes times."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).strftime(
        TIME_FORMAT)


def request_id(ctxt: Any) -> str | None:
    return getattr(ctxt, "request_id", None) or getattr(ctxt, "global_request_id", None)


def error_code(error: BaseException) -> int:
    code = getattr(error, "code", 500)
    return code if isinstance(code, int) and 400 <= code < 600 else 500


def error_message(error: BaseException) -> str:
    if isinstance(error, common_exception.Error):
        return error.message
    return str(error) or type(error).__name__


def is_deleting(error: BaseException) -> bool:
    """Whether ``error`` means the instance went away or is being deleted."""
    if isinstance(error, (exception.InstanceNotFound, events_mod.EventsCancelled)):
        return True
    return (isinstance(error, exception.UnexpectedTaskStateError)
            and error.kwargs.get("actual") == states.DELETING)


class Action:
    """One instance action event of a request on this host, whose start or
    successful end may ride on an instance update (``Node.update(...,
    action_event=...)``) instead of a conductor call of its own."""

    def __init__(self, rid: str | None, event: str, host: str) -> None:
        self.request_id = rid
        self.event = event
        self.host = host
        self.done = False

    def start(self) -> dict[str, Any] | None:
        """The ``action_event`` that starts the event (None without a request id)."""
        if not self.request_id:
            return None
        return {"request_id": self.request_id, "event": self.event, "host": self.host}

    def success(self) -> dict[str, Any] | None:
        """The ``action_event`` that finishes the event with Success; call
        :meth:`finished` once the update that carried it succeeded."""
        found = self.start()
        return None if found is None else dict(found, result="Success", traceback=None)

    def finished(self) -> None:
        self.done = True


class Node:
    """One compute node: the collaborators and the chores of its workflows."""

    def __init__(self, conf: cfg.ConfigOpts, host: str, driver: virt_driver.ComputeDriver,
                 conductor: Conductor, neighbours: neighbours_mod.Neighbours,
                 compute_rpc: ComputeRPC) -> None:
        self.conf = conf
        self.host = host
        self.driver = driver
        self.conductor = conductor
        self.neighbours = neighbours
        self.compute_rpc = compute_rpc
        self.tracker = resource_tracker.ResourceTracker(conf, host, driver, conductor)
        self.events = events_mod.InstanceEvents()
        self.lock = InstanceLocks()

    # -- instances -------------------------------------------------------------

    def get(self, ctxt: Any, instance_uuid: str, read_deleted: bool = False) -> dict[str, Any]:
        return self.conductor.instance_get(ctxt, instance_uuid, read_deleted=read_deleted)

    def update(self, ctxt: Any, instance_uuid: str, values: dict[str, Any],
               expected_task_state: Any = ANY,
               expected_vm_state: list[str] | None = None,
               action_event: dict[str, Any] | None = None,
               node_resources: dict[str, Any] | None = None) -> dict[str, Any]:
        """A compare-and-set update; ``action_event`` (:meth:`Action.start`,
        :meth:`Action.success`) and ``node_resources`` (the resource tracker's
        report) ride along in the same conductor call (see ConductorAPI 1.4)."""
        extra: dict[str, Any] = {}
        if action_event is not None:
            extra["action_event"] = action_event
        if node_resources is not None:
            extra["node_resources"] = node_resources
        return self.conductor.instance_update(ctxt, instance_uuid, values,
                                              expected_task_state=expected_task_state,
                                              expected_vm_state=expected_vm_state, **extra)

    def fault(self, ctxt: Any, instance_uuid: str, error: BaseException | str,
              code: int | None = None) -> None:
        """Record an instance fault (never raises: the fault is the last word)."""
        if isinstance(error, BaseException):
            message = error_message(error)
            code = code or error_code(error)
            details = "".join(traceback.format_exception(error)) if code >= 500 else None
        else:
            message, code, details = error, code or 500, None
        try:
            self.conductor.instance_fault_create(ctxt, instance_uuid, code, message,
                                                 details, self.host)
        except Exception:
            LOG.exception("Could not record the fault of instance %s", instance_uuid)

    def set_error(self, ctxt: Any, instance_uuid: str, error: BaseException | str,
                  values: Mapping[str, Any] | None = None) -> None:
        """A fault, then vm_state ERROR, task_state None (plus ``values``): whoever
        sees the instance in ERROR finds its fault already recorded."""
        self.fault(ctxt, instance_uuid, error)
        try:
            self.update(ctxt, instance_uuid, dict(values or {}, vm_state=states.ERROR,
                                                  task_state=None))
        except exception.InstanceNotFound:
            return

    def revert_task_state(self, ctxt: Any, instance_uuid: str, error: BaseException) -> None:
        """What Nova's reverts_task_state + wrap_instance_fault do on a failure:
        task_state None, vm_state unchanged, a fault."""
        if is_deleting(error):
            return
        if isinstance(error, exception.UnexpectedTaskStateError):
            # Another request moved the instance on: its task state is not ours.
            LOG.warning("Instance %(uuid)s: %(err)s", {"uuid": instance_uuid, "err": error})
            return
        try:
            self.update(ctxt, instance_uuid, {"task_state": None})
        except exception.InstanceNotFound:
            return
        except Exception:
            LOG.exception("Could not clear the task state of instance %s", instance_uuid)
        self.fault(ctxt, instance_uuid, error)

    def action_record(self, ctxt: Any, event: str) -> Action:
        """An :class:`Action` of ``ctxt``'s request on this host."""
        return Action(request_id(ctxt), event, self.host)

    @contextlib.contextmanager
    def action(self, ctxt: Any, instance_uuid: str, event: str,
               started: Action | None = None) -> Iterator[Action]:
        """Record instance action event ``event`` (``compute_stop_instance`` …)
        around the block: Success, or Error with the traceback.

        ``started``: the event was already started along with an instance update
        (:meth:`Action.start`). An update of the block that finished it
        (:meth:`Action.success`, then :meth:`Action.finished`) leaves nothing to
        record at the end.
        """
        record = started or self.action_record(ctxt, event)
        rid = record.request_id
        if rid and started is None:
            try:
                self.conductor.action_event_start(ctxt, instance_uuid, rid, event, self.host)
            except Exception:
                LOG.exception("Could not record the start of %s", event)
        try:
            yield record
        except BaseException as err:
            if rid and not record.done:
                self._finish(ctxt, instance_uuid, rid, event, "Error",
                             "".join(traceback.format_exception(err)))
            raise
        if rid and not record.done:
            self._finish(ctxt, instance_uuid, rid, event, "Success", None)

    def _finish(self, ctxt: Any, instance_uuid: str, rid: str, event: str, result: str,
                tb: str | None) -> None:
        try:
            self.conductor.action_event_finish(ctxt, instance_uuid, rid, event, result, tb,
                                               self.host)
        except Exception:
            LOG.exception("Could not record the end of %s", event)

    # -- the driver's view -----------------------------------------------------

    def power_state(self, instance: model.Instance) -> PowerState:
        """The guest's power state; SHUTDOWN for a guest the hypervisor does not know."""
        try:
            return self.driver.get_info(instance).state
        except virt_exception.InstanceNotFound:
            return power_state.SHUTDOWN

    def block_device_info(self, ctxt: Any, instance: Mapping[str, Any],
                          bdms: list[dict[str, Any]] | None = None) -> model.BlockDeviceInfo:
        """The instance's root device and the volumes connected to it."""
        if bdms is None:
            bdms = self.conductor.bdm_get_by_instance(ctxt, str(instance["uuid"]))
        volumes = tuple(model.BlockDevice(mount_device=str(b["device_name"]),
                                          connection_info=b["connection_info"])
                        for b in bdms if b.get("destination_type") == "volume"
                        and b.get("connection_info") and b.get("device_name"))
        return model.BlockDeviceInfo(
            root_device_name=instance.get("root_device_name") or DEFAULT_ROOT_DEVICE,
            volumes=volumes)


# -- rows to the driver's model ------------------------------------------------------


def driver_instance(instance: Mapping[str, Any],
                    flavor: Mapping[str, Any] | None = None) -> model.Instance:
    """The driver's view of an instance row, sized by ``flavor`` when given."""
    data = dict(instance)
    if flavor is not None:
        for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
            data[key] = int(flavor.get(key) or 0)
    elif not data.get("memory_mb") and data.get("flavor"):
        for key in ("memory_mb", "vcpus", "root_gb", "ephemeral_gb"):
            data[key] = int(data["flavor"].get(key) or 0)
    return model.Instance.from_dict(data)


def vif(entry: Mapping[str, Any]) -> model.VIF:
    """A network_info entry (compute/network_info.py's shape) as a driver VIF."""
    network: Mapping[str, Any] = entry.get("network") or {}
    net_id = str(network.get("id") or "")
    ips = tuple(str(ip["address"]) for subnet in network.get("subnets") or ()
                for ip in subnet.get("ips") or () if ip.get("address"))
    mtu = network.get("mtu") or (network.get("meta") or {}).get("mtu")
    return model.VIF(port_id=str(entry["id"]), mac=str(entry["address"]),
                     bridge=str(network.get("bridge") or "brq" + net_id[:11]),
                     mtu=int(mtu) if mtu else None, network_id=net_id or None,
                     fixed_ips=ips)


def vifs(network_info: list[dict[str, Any]] | None) -> list[model.VIF]:
    return [vif(entry) for entry in network_info or ()]


def image_meta(instance: Mapping[str, Any],
               image: Mapping[str, Any] | None = None) -> model.ImageMeta:
    """``image`` (an image record) or, without one, what the instance's
    system_metadata remembers of its image (Nova's ``image_*`` keys)."""
    if image is not None:
        return model.ImageMeta.from_dict(image)
    sysmeta: Mapping[str, Any] = instance.get("system_metadata") or {}
    props = {key[len("image_"):]: value for key, value in sysmeta.items()
             if key.startswith("image_") and value not in (None, "")}
    props["id"] = instance.get("image_ref")
    return model.ImageMeta.from_dict(props)

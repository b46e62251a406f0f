"""Building an instance on this node (and rebuilding it with another image).

A build takes the instance for this host (task_state ``networking``, in the
call that checks it is still building), claims the flavor against the
scheduler's limits, allocates the ports, makes and connects requested volumes
(``block_device_mapping``, :mod:`compute.node.block_devices`), then spawns the
guest (``spawning``, the network_info stored with that state change) and
records it ACTIVE: three instance updates for a boot without volumes, and no
other conductor call (the first starts the build's action event, the second
carries the claim's report, the last finishes the event: ConductorAPI 1.4). A
driver that lets the network agent plug its taps (libvirt) spawns the guest
paused and waits for ``network-vif-plugged`` of every port that is not ACTIVE
yet.

On failure everything done here is undone (guest, ports, claim, volume
connections; volumes made here to delete with the server). A failure a
retry elsewhere may cure goes back to the conductor (``reschedule``, host and
node cleared, task_state ``scheduling``) while the request allows more
attempts; anything else — a bad image, a network request that cannot work,
ports never plugged, attempts used up — puts the instance in ERROR with a
fault, keeping its host so that a delete still reaches this node. An instance
deleted meanwhile is only cleaned up: the delete finishes it.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.node import block_devices
from compute.node import config_drive
from compute.node import events
from compute.virt import driver as virt_driver
from compute.virt import exception as virt_exception
from compute.virt import model
from compute.virt import power_state

LOG = logging.getLogger(__name__)

BUILD_EVENT = "compute_build_and_run_instance"
REBUILD_EVENT = "compute_rebuild_instance"
# Drivers whose taps the network agent plugs, so a guest must wait for them.
VIF_WAITING_DRIVERS = ("libvirt",)
_BUILD_STATES = list(states.BUILD_TASK_STATES)
# Failures that another host would not cure: the build aborts (Nova's
# BuildAbortException cases). Anything else is worth a reschedule.
_ABORT = (exception.BuildAbortException, exception.VirtualInterfaceCreateException,
          exception.ImageNotFound, exception.ImageNotActive, exception.ImageNotAuthorized,
          virt_exception.ImageUnacceptable, exception.NetworkNotFound, exception.PortNotFound,
          exception.PortInUse, exception.PortRequiresFixedIP, exception.FixedIpAlreadyInUse,
          exception.InvalidFixedIp, exception.NoMoreFixedIps, exception.NetworkAmbiguous,
          exception.NetworkRequiresSubnet, exception.ExternalNetworkAttachForbidden,
          exception.SecurityGroupNotFound, exception.SecurityGroupNotUnique,
          exception.SecurityGroupCannotBeApplied, exception.PortLimitExceeded,
          exception.NetworkBadRequest, exception.NetworkForbidden,
          exception.VolumeNotFound, exception.InvalidVolume)
_IMAGE_SYSMETA = ("disk_format", "container_format", "min_ram", "min_disk", "kernel_id",
                  "ramdisk_id", "os_command_line")


def may_reschedule(request_spec: dict[str, Any]) -> bool:
    """Whether the request allows another attempt: the conductor's
    ``request_spec["retry"]`` (``num_attempts``, ``max_attempts``) says so.

    Without retry information (one attempt only) the build fails here, as Nova's
    compute does; with attempts left the conductor decides, and fails the
    instance with Nova's "Exhausted all hosts …" fault when no alternate is left.
    """
    retry = request_spec.get("retry")
    if not isinstance(retry, dict):
        return False
    attempts, most = retry.get("num_attempts") or 1, retry.get("max_attempts")
    return most is None or int(attempts) < int(most)


def image_system_metadata(image: dict[str, Any]) -> dict[str, str]:
    """Nova's ``image_*`` system_metadata keys for an image record."""
    return {"image_" + key: str(image[key]) for key in _IMAGE_SYSMETA
            if image.get(key) not in (None, "")}


def no_volumes(instance: dict[str, Any], request_spec: dict[str, Any]) -> bool:
    """Whether a first build has no volume to connect, known from the boot request's
    block devices alone (no conductor call): volumes are attached to an instance
    that ran (launched_at set), never to one still building for the first time."""
    mappings = request_spec.get("block_device_mapping")
    return (instance.get("launched_at") is None and isinstance(mappings, list)
            and not any(isinstance(m, dict) and m.get("destination_type") == "volume"
                        for m in mappings))


def vif_waiter(node: base.Node, instance_uuid: str,
               network_info: list[dict[str, Any]]) -> events.EventGroup | None:
    """Waiters for ``network-vif-plugged`` of the ports not ACTIVE yet, when the
    driver needs them and waiting is enabled; register before the guest exists."""
    if node.driver.name not in VIF_WAITING_DRIVERS or node.conf.compute.vif_plugging_timeout <= 0:
        return None
    keys = [(events.VIF_PLUGGED, str(vif["id"])) for vif in network_info
            if not vif.get("active")]
    return node.events.prepare(instance_uuid, keys) if keys else None


def wait_callback(node: base.Node,
                  group: events.EventGroup | None) -> virt_driver.WaitForVifsCallback | None:
    if group is None:
        return None

    def wait() -> None:
        try:
            group.wait(node.conf.compute.vif_plugging_timeout,
                       fatal=node.conf.compute.vif_plugging_is_fatal)
        except (events.EventTimeout, events.EventFailed) as err:
            LOG.error("Instance %(uuid)s: %(err)s", {"uuid": group.instance_uuid, "err": err})
            raise exception.VirtualInterfaceCreateException() from err
    return wait


def spawn(node: base.Node, ctxt: Any, instance: dict[str, Any], guest: model.Instance,
          image_meta: model.ImageMeta, network_info: list[dict[str, Any]],
          block_device_info: model.BlockDeviceInfo,
          bdms: list[dict[str, Any]] | None = None) -> None:
    """driver.spawn, with the instance's config drive when it gets one
    (:mod:`compute.node.config_drive`; ``bdms``: its block device mappings when
    the caller has them), waiting for the ports where the driver needs it."""
    drive = config_drive.gather(node, ctxt, instance, network_info, bdms, image_meta)
    group = vif_waiter(node, guest.uuid, network_info)
    try:
        node.driver.spawn(ctxt, guest, image_meta, base.vifs(network_info), block_device_info,
                          wait_for_vifs=wait_callback(node, group), config_drive=drive)
    finally:
        if group is not None:
            group.clear()


class Build:
    """One build_and_run_instance of one instance (called with its lock held)."""

    def __init__(self, node: base.Node, ctxt: Any, instance: dict[str, Any],
                 request_spec: dict[str, Any], limits: dict[str, Any], node_name: str,
                 action: base.Action | None = None) -> None:
        self.node = node
        # The build's action event, when it was started with the update that took
        # the instance (its successful end then rides on the ACTIVE update).
        self.action = action
        self.ctxt = ctxt
        self.instance = instance
        self.uuid = str(instance["uuid"])
        self.request_spec = request_spec or {}
        self.limits = limits or {}
        self.node_name = node_name or node.host
        self.network_info: list[dict[str, Any]] | None = None
        self.guest: model.Instance | None = None
        self.block_device_info = model.BlockDeviceInfo()
        self.volumes: block_devices.VolumeSetup | None = None
        # The block device mappings, when the build read them (None: not read).
        self.bdms: list[dict[str, Any]] | None = None
        self.claimed = False
        self._store_network_info = False
        # The claim is reported along with the next state change (one conductor call
        # less per build), or by its release when the build fails before that.
        self._report_claim = False

    def run(self) -> None:
        try:
            with self.node.action(self.ctxt, self.uuid, BUILD_EVENT,
                                  started=self.action) as action:
                self.action = action
                self._claim()
                self._networking()
                bdms = self._block_devices()
                self._spawn()
                self._active(bdms)
        except Exception as err:  # the boundary of a cast: every failure ends here
            self._failed(err)

    def _claim(self) -> None:
        try:
            self.node.tracker.instance_claim(self.ctxt, self.instance, self.limits,
                                             report=False)
        except exception.ComputeResourcesUnavailable as err:
            raise exception.RescheduledException(instance_uuid=self.uuid,
                                                 reason=err.message) from err
        self.claimed = self._report_claim = True

    def _update(self, values: dict[str, Any], expected: Any,
                action_event: dict[str, Any] | None = None) -> None:
        if not self._report_claim:
            self.instance = self.node.update(self.ctxt, self.uuid, values,
                                             expected_task_state=expected,
                                             action_event=action_event)
            return
        self._report_claim = False
        host = self.node.host

        def send(report: dict[str, Any]) -> dict[str, Any]:
            return self.node.update(self.ctxt, self.uuid, values, expected_task_state=expected,
                                    action_event=action_event,
                                    node_resources={"host": host, "resources": report})
        self.instance = self.node.tracker.report_with(send)

    def _networking(self) -> None:
        """Ports for the instance (task_state networking was set when the build
        took the instance, see :func:`build_and_run_instance`)."""
        spec = self.request_spec
        requested = spec.get("requested_networks", spec.get("networks"))
        groups = spec.get("security_groups") or self.instance.get("security_groups") or []
        self.network_info = self.node.neighbours.allocate_for_instance(
            self.ctxt, self.instance, requested, [str(g) for g in groups], self.node.host)
        # Stored with the next state change (block devices or spawning): one update
        # less per build. A failure before then still releases the ports (the node
        # keeps them in self.network_info; deallocation finds them by device_id).
        self._store_network_info = True

    def _next_state(self, values: dict[str, Any], expected: Any) -> None:
        """A state change of the build, with the network_info not stored yet."""
        if self._store_network_info:
            values = dict(values, network_info=self.network_info)
        self._update(values, expected)
        self._store_network_info = False

    def _block_devices(self) -> list[dict[str, Any]]:
        """Make, reserve and connect the volumes (boot from volume, extra volumes;
        see :mod:`compute.node.block_devices`); the mappings connected."""
        if no_volumes(self.instance, self.request_spec):
            self.block_device_info = self.node.block_device_info(self.ctxt, self.instance, [])
            return []
        bdms = self.bdms = self.node.conductor.bdm_get_by_instance(self.ctxt, self.uuid)
        if block_devices.pending(bdms):
            self._next_state({"task_state": states.BLOCK_DEVICE_MAPPING}, states.NETWORKING)
            self.volumes = block_devices.VolumeSetup(self.node, self.ctxt, self.instance)
            self.volumes.prepare(bdms)
        self.block_device_info = self.node.block_device_info(self.ctxt, self.instance, bdms)
        return self.volumes.connected if self.volumes is not None else []

    def _spawn(self) -> None:
        before = (states.BLOCK_DEVICE_MAPPING
                  if self.instance.get("task_state") == states.BLOCK_DEVICE_MAPPING
                  else states.NETWORKING)
        self._next_state({"task_state": states.SPAWNING}, before)
        image_ref = self.instance.get("image_ref")
        image = self.node.neighbours.get_image(self.ctxt, str(image_ref)) if image_ref else None
        self.guest = base.driver_instance(self.instance)
        spawn(self.node, self.ctxt, self.instance, self.guest,
              base.image_meta(self.instance, image), self.network_info or [],
              self.block_device_info, self.bdms)

    def _active(self, connected: list[dict[str, Any]]) -> None:
        assert self.guest is not None
        state = self.node.power_state(self.guest)
        finish = self.action.success() if self.action is not None else None
        self._update({"vm_state": states.ACTIVE, "task_state": None, "power_state": int(state),
                      "launched_at": base.now(), "launched_on": self.node.host},
                     states.SPAWNING, action_event=finish)
        if finish is not None and self.action is not None:
            self.action.finished()
        for bdm in connected:
            try:
                self.node.neighbours.volume_attach_complete(self.ctxt,
                                                            str(bdm["attachment_id"]))
            except Exception:
                LOG.exception("Could not complete volume attachment %s", bdm["attachment_id"])
        LOG.info("Instance %(uuid)s is ACTIVE on %(host)s", {"uuid": self.uuid,
                                                             "host": self.node.host})

    # -- failures -------------------------------------------------------------

    def _failed(self, err: Exception) -> None:
        self._report_claim = False  # the release of the claim reports
        if base.is_deleting(err):
            LOG.info("Instance %s was deleted during its build; cleaning up", self.uuid)
            self._cleanup()
            self._release()
            return
        reason = (str(err.kwargs.get("reason")) if isinstance(err, exception.RescheduledException)
                  else base.error_message(err))
        rescheduled = (not isinstance(err, _ABORT) and may_reschedule(self.request_spec))
        LOG.warning("Build of instance %(uuid)s failed on %(host)s (%(what)s): %(reason)s",
                    {"uuid": self.uuid, "host": self.node.host, "reason": reason,
                     "what": "rescheduling" if rescheduled else "aborting"},
                    exc_info=not isinstance(err, (exception.RescheduledException,) + _ABORT))
        self._cleanup()
        if self.volumes is not None:
            self.volumes.cleanup(rescheduled)
        if not rescheduled:
            # The fault first, as Nova: whoever sees ERROR also finds why.
            if not isinstance(err, exception.BuildAbortException):
                err = exception.BuildAbortException(instance_uuid=self.uuid, reason=reason)
            self.node.fault(self.ctxt, self.uuid, err, code=500)
        try:
            if rescheduled:
                self._update({"task_state": states.SCHEDULING, "host": None, "node": None,
                              "launched_on": None, "network_info": []}, _BUILD_STATES)
            else:
                self._update({"vm_state": states.ERROR, "task_state": None,
                              "power_state": int(power_state.NOSTATE), "network_info": []},
                             _BUILD_STATES)
        except Exception as update_err:
            if not base.is_deleting(update_err):
                LOG.exception("Could not record the failed build of %s", self.uuid)
            self._release()
            return
        self._release()
        if rescheduled:
            self.node.conductor.reschedule(self.ctxt, self.uuid, self.node.host, reason)

    def _cleanup(self) -> None:
        guest = self.guest or _maybe_guest(self.instance)
        if guest is not None:
            try:
                self.node.driver.destroy(self.ctxt, guest, base.vifs(self.network_info),
                                         self.block_device_info)
            except Exception:
                LOG.exception("Could not destroy the guest of failed build %s", self.uuid)
        if self.network_info is not None:
            try:
                self.node.neighbours.deallocate_for_instance(self.ctxt, self.uuid,
                                                             self.network_info)
            except Exception:
                LOG.exception("Could not deallocate the ports of failed build %s", self.uuid)

    def _release(self) -> None:
        if self.claimed:
            self.node.tracker.release(self.ctxt, self.uuid)
            self.claimed = False


def _maybe_guest(instance: dict[str, Any]) -> model.Instance | None:
    try:
        return base.driver_instance(instance)
    except (KeyError, ValueError):
        return None


def build_and_run_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                           request_spec: dict[str, Any], limits: dict[str, Any],
                           node_name: str) -> None:
    with node.lock(instance_uuid):
        # One conductor call takes the instance for this host (task_state networking),
        # checks that it is still building, not being deleted, and starts the build's
        # action event.
        action = node.action_record(ctxt, BUILD_EVENT)
        try:
            instance = node.update(ctxt, instance_uuid, {
                "task_state": states.NETWORKING, "host": node.host,
                "node": node_name or node.host}, expected_task_state=_BUILD_STATES,
                expected_vm_state=[states.BUILDING], action_event=action.start())
        except exception.InstanceNotFound:
            LOG.info("Instance %s was deleted before its build started", instance_uuid)
            return
        except (exception.UnexpectedTaskStateError, exception.UnexpectedVMStateError) as err:
            LOG.info("Not building instance %(uuid)s: %(err)s",
                     {"uuid": instance_uuid, "err": base.error_message(err)})
            return
        Build(node, ctxt, instance, request_spec, limits, node_name, action).run()


def rebuild_instance(node: base.Node, ctxt: Any, instance_uuid: str, image_ref: str,
                     preserve_ephemeral: bool = False) -> None:
    """Destroy the guest and spawn it again from ``image_ref`` on this host
    (task_state ``rebuilding`` then ``rebuild_spawning``); a stopped instance
    ends stopped. Failures put the instance in ERROR with a fault, as on Nova."""
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, REBUILD_EVENT):
                _rebuild(node, ctxt, instance, image_ref, preserve_ephemeral)
        except Exception as err:  # the boundary of a cast
            if base.is_deleting(err):
                return
            LOG.exception("Rebuild of instance %s failed", instance_uuid)
            node.set_error(ctxt, instance_uuid, err)


def _rebuild(node: base.Node, ctxt: Any, instance: dict[str, Any], image_ref: str,
             preserve_ephemeral: bool) -> None:
    uuid = str(instance["uuid"])
    was_stopped = instance.get("vm_state") == states.STOPPED
    if preserve_ephemeral:
        LOG.info("Instance %s: preserve_ephemeral is not supported; rebuilding all disks", uuid)
    image = node.neighbours.get_image(ctxt, image_ref)
    sysmeta = dict(instance.get("system_metadata") or {})
    sysmeta.update(image_system_metadata(image))
    instance = node.update(ctxt, uuid, {"image_ref": image_ref, "system_metadata": sysmeta},
                           expected_task_state=[states.REBUILDING])
    guest = base.driver_instance(instance)
    network_info = instance.get("network_info") or []
    bdms = node.conductor.bdm_get_by_instance(ctxt, uuid)
    bdi = node.block_device_info(ctxt, instance, bdms)
    node.driver.destroy(ctxt, guest, base.vifs(network_info), bdi, destroy_disks=True)
    # The ports' state now, not at boot: the spawn waits for network-vif-plugged only
    # of ports that are down (a port still ACTIVE sends no new event when re-plugged).
    network_info = node.neighbours.get_instance_nw_info(ctxt, uuid, network_info)
    instance = node.update(ctxt, uuid, {"task_state": states.REBUILD_SPAWNING,
                                        "network_info": network_info},
                           expected_task_state=[states.REBUILDING])
    spawn(node, ctxt, instance, guest, base.image_meta(instance, image), network_info, bdi,
          bdms)
    if was_stopped:
        node.driver.power_off(guest)
    node.update(ctxt, uuid, {
        "vm_state": states.STOPPED if was_stopped else states.ACTIVE, "task_state": None,
        "power_state": int(node.power_state(guest)), "launched_at": base.now()},
        expected_task_state=[states.REBUILD_SPAWNING])

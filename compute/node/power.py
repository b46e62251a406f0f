"""Power actions (start, stop, reboot, pause/unpause, suspend/resume) and the
periodic power-state sync.

The API sets the task state (``powering-off`` …) before it casts; the node
calls the driver and records the outcome exactly as Nova does: stop ->
``stopped``/SHUTDOWN, start -> ``active``, pause -> ``paused``, suspend ->
``suspended``, unpause/resume/reboot -> ``active``; every one clears the task
state and records the power state the driver reports. A failure clears the
task state and leaves a fault with the vm_state unchanged — except a reboot
that leaves the guest not running, which is ERROR (Nova does the same).

The sync compares the hypervisor with the database for instances with no task
in progress, following Nova's ``_sync_instance_power_state``: a guest found
shut off (or crashed, or suspended behind our back) while its instance is
active is recorded as stopped; a running guest of a stopped instance is
powered off; a guest the hypervisor does not know is recorded as SHUTDOWN
with its vm_state left alone. Guests of deleted instances are reaped per
``[compute] running_deleted_instance_action``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.virt import exception as virt_exception
from compute.virt import model
from compute.virt import power_state
from compute.virt.power_state import PowerState

LOG = logging.getLogger(__name__)

_SOFT_REBOOT = [states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED]
_HARD_REBOOT = [states.REBOOTING_HARD, states.REBOOT_PENDING_HARD,
                states.REBOOT_STARTED_HARD]
# vm_states the sync leaves alone (apart from the power state).
_SYNC_SKIP = (states.BUILDING, states.RESCUED, states.RESIZED, states.SUSPENDED,
              states.ERROR, states.DELETED, states.SOFT_DELETED, states.SHELVED,
              states.SHELVED_OFFLOADED)
_OFF = (power_state.SHUTDOWN, power_state.CRASHED)

Run = Callable[[model.Instance, dict[str, Any]], None]


def _power_action(node: base.Node, ctxt: Any, instance_uuid: str, event: str,
                  expected: list[str | None], vm_state: str, run: Run) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, event):
                guest = base.driver_instance(instance)
                run(guest, instance)
                node.update(ctxt, instance_uuid, {
                    "vm_state": vm_state, "task_state": None,
                    "power_state": int(node.power_state(guest))},
                    expected_task_state=expected)
        except Exception as err:  # the boundary of a cast
            if not base.is_deleting(err):
                LOG.warning("%(event)s of instance %(uuid)s failed: %(err)s",
                            {"event": event, "uuid": instance_uuid, "err": err})
                node.revert_task_state(ctxt, instance_uuid, err)


def stop_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                  clean_shutdown: bool = True) -> None:
    timeout = node.conf.compute.shutdown_timeout if clean_shutdown else 0

    def run(guest: model.Instance, _instance: dict[str, Any]) -> None:
        node.driver.power_off(guest, timeout, node.conf.compute.shutdown_retry_interval)
    _power_action(node, ctxt, instance_uuid, "compute_stop_instance",
                  [states.POWERING_OFF, None], states.STOPPED, run)


def start_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    def run(guest: model.Instance, instance: dict[str, Any]) -> None:
        node.driver.power_on(guest, base.vifs(instance.get("network_info")),
                             node.block_device_info(ctxt, instance))
    _power_action(node, ctxt, instance_uuid, "compute_start_instance",
                  [states.POWERING_ON], states.ACTIVE, run)


def pause_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    _power_action(node, ctxt, instance_uuid, "compute_pause_instance", [states.PAUSING],
                  states.PAUSED, lambda guest, _i: node.driver.pause(guest))


def unpause_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    _power_action(node, ctxt, instance_uuid, "compute_unpause_instance",
                  [states.UNPAUSING], states.ACTIVE,
                  lambda guest, _i: node.driver.unpause(guest))


def suspend_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    _power_action(node, ctxt, instance_uuid, "compute_suspend_instance",
                  [states.SUSPENDING], states.SUSPENDED,
                  lambda guest, _i: node.driver.suspend(guest))


def resume_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    _power_action(node, ctxt, instance_uuid, "compute_resume_instance", [states.RESUMING],
                  states.ACTIVE, lambda guest, _i: node.driver.resume(guest))


def reboot_instance(node: base.Node, ctxt: Any, instance_uuid: str, reboot_type: str) -> None:
    hard = str(reboot_type).upper() == model.HARD
    expected: list[str | None] = list(_HARD_REBOOT + _SOFT_REBOOT if hard else _SOFT_REBOOT)
    pending, started = ((states.REBOOT_PENDING_HARD, states.REBOOT_STARTED_HARD) if hard
                        else (states.REBOOT_PENDING, states.REBOOT_STARTED))
    with node.lock(instance_uuid):
        guest: model.Instance | None = None
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, "compute_reboot_instance"):
                guest = base.driver_instance(instance)
                node.update(ctxt, instance_uuid, {"task_state": pending},
                            expected_task_state=expected)
                node.update(ctxt, instance_uuid, {"task_state": started},
                            expected_task_state=[pending])
                node.driver.reboot(guest, base.vifs(instance.get("network_info")),
                                   model.HARD if hard else model.SOFT)
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.ACTIVE, "task_state": None,
                    "power_state": int(node.power_state(guest))}, expected_task_state=[started])
        except Exception as err:  # the boundary of a cast
            if base.is_deleting(err):
                return
            running = guest is not None and node.power_state(guest) == power_state.RUNNING
            LOG.warning("Reboot of instance %(uuid)s failed (guest %(state)s): %(err)s",
                        {"uuid": instance_uuid, "err": err,
                         "state": "running" if running else "not running"})
            if running or isinstance(err, exception.UnexpectedTaskStateError):
                node.revert_task_state(ctxt, instance_uuid, err)
            else:
                node.set_error(ctxt, instance_uuid, err)


# -- the sync ----------------------------------------------------------------------------


def sync_power_states(node: base.Node, ctxt: Any) -> None:
    """One pass of the periodic sync over this host's instances and guests."""
    instances = node.conductor.instance_get_all_by_host(ctxt, node.host)
    guests = set(node.driver.list_instance_uuids())
    for listed in instances:
        if listed.get("task_state") is not None:
            continue
        uuid = str(listed["uuid"])
        try:
            with node.lock(uuid):
                instance = node.get(ctxt, uuid)
                if instance.get("task_state") is None and instance.get("host") == node.host:
                    sync_instance(node, ctxt, instance)
        except Exception as err:  # one instance must not stop the pass
            if not base.is_deleting(err):
                LOG.exception("Power state sync of instance %s failed", uuid)
    reap_deleted_guests(node, ctxt, guests - {str(i["uuid"]) for i in instances})


def sync_instance(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> None:
    """Bring one idle instance's record in line with its guest."""
    uuid = str(instance["uuid"])
    guest = base.driver_instance(instance)
    try:
        found: PowerState | None = node.driver.get_info(guest).state
    except virt_exception.InstanceNotFound:
        found = None
    current = power_state.SHUTDOWN if found is None else found
    vm_state = instance.get("vm_state")
    values: dict[str, Any] = {}
    if instance.get("power_state") != int(current):
        values["power_state"] = int(current)
    stop = False
    if found is not None and vm_state not in _SYNC_SKIP:
        if vm_state == states.ACTIVE and found in _OFF + (power_state.SUSPENDED,):
            LOG.warning("Instance %s shut down by itself: recording it stopped", uuid)
            stop = True
        elif vm_state == states.STOPPED and found not in _OFF + (power_state.NOSTATE,):
            LOG.warning("Instance %s is not stopped: powering it off", uuid)
            stop = True
        elif vm_state == states.PAUSED and found in _OFF:
            LOG.warning("Paused instance %s shut down by itself: recording it stopped", uuid)
            stop = True
    elif found is None and vm_state == states.ACTIVE:
        LOG.warning("Instance %s has no guest on this hypervisor", uuid)
    if stop:
        node.driver.power_off(guest)
        values.update(vm_state=states.STOPPED, power_state=int(node.power_state(guest)))
    if values:
        node.update(ctxt, uuid, values, expected_task_state=[None])


def reap_deleted_guests(node: base.Node, ctxt: Any, uuids: set[str]) -> None:
    """Guests whose instances are not listed on this host: destroy (or log)
    those of deleted instances; leave the others (another host's, unknown)."""
    action = node.conf.compute.running_deleted_instance_action
    if action == "noop":
        return
    for uuid in sorted(uuids):
        try:
            instance = node.get(ctxt, uuid, read_deleted=True)
        except exception.InstanceNotFound:
            continue
        if instance.get("vm_state") != states.DELETED:
            continue
        if action == "log":
            LOG.warning("Guest of deleted instance %s is still on this hypervisor", uuid)
            continue
        LOG.warning("Destroying the guest of deleted instance %s", uuid)
        try:
            with node.lock(uuid):
                node.driver.destroy(ctxt, base.driver_instance(instance),
                                    base.vifs(instance.get("network_info")))
        except Exception:
            LOG.exception("Could not destroy the guest of deleted instance %s", uuid)

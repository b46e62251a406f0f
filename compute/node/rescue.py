"""Rescue and unrescue on the node (Nova's os-rescue), and their crash recovery.

The API set task_state ``rescuing`` (from vm_state active, stopped or error)
or ``unrescuing`` (from rescued) before it cast. A rescue powers the guest off
(cleanly when asked), then has the driver boot the rescue image — the one the
request named, else the server's own image — with the server's root disk
attached second: vm_state ``rescued``, the power state the driver reports,
``launched_at`` now (as Nova records it). An unrescue has the driver put the
server's own guest back and start it: vm_state ``active``. Each records its
instance action event (``compute_rescue_instance``,
``compute_unrescue_instance``).

A failed rescue leaves the vm_state as it was with a fault (Nova's
``InstanceNotRescuable``); the driver has put the server's own guest back, and
this node starts it again when it ran before (when that fails too: ERROR). A
failed unrescue leaves the server rescued (task state cleared, a fault): the
unrescue may be asked again.

A node that restarts finds (:func:`recover`):

* ``rescuing``: the rescue is undone (the driver puts the server's own guest
  back and starts it): ACTIVE with a fault saying so, or ERROR with a fault
  when that fails;
* ``unrescuing``: the unrescue is finished: ACTIVE (ERROR with a fault when it
  fails).

A guest the hypervisor no longer knows (a fake node's guests die with it) is
recorded as SHUTDOWN with the instance ACTIVE, like any guest lost that way.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.virt import exception as virt_exception
from compute.virt import model
from compute.virt import power_state

LOG = logging.getLogger(__name__)

RESCUE_EVENT = "compute_rescue_instance"
UNRESCUE_EVENT = "compute_unrescue_instance"
RESCUE_INTERRUPTED = ("Instance was being rescued when the compute node restarted; "
                      "the rescue was undone")
UNRESCUE_INTERRUPTED = "Instance was being unrescued when the compute node restarted"


def _rescue_image(node: base.Node, ctxt: Any, instance: dict[str, Any],
                  rescue_image_ref: str | None) -> model.ImageMeta:
    image_ref = rescue_image_ref or instance.get("image_ref")
    if not image_ref:
        raise exception.InstanceNotRescuable(instance_id=instance["uuid"],
                                             reason="Cannot rescue a volume-backed instance")
    return model.ImageMeta.from_dict(node.neighbours.get_image(ctxt, str(image_ref)))


def rescue_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                    rescue_password: str | None, rescue_image_ref: str | None,
                    clean_shutdown: bool = True) -> None:
    """Rescue the instance (task_state ``rescuing``): vm_state ``rescued``, or
    the state it had with a fault. Never raises (the boundary of a cast)."""
    with node.lock(instance_uuid):
        guest: model.Instance | None = None
        was_running = False
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, RESCUE_EVENT):
                guest = base.driver_instance(instance)
                if not node.driver.supports_rescue:
                    raise virt_exception.RescueNotSupported(driver=node.driver.name)
                image_meta = _rescue_image(node, ctxt, instance, rescue_image_ref)
                was_running = node.power_state(guest) == power_state.RUNNING
                timeout = node.conf.compute.shutdown_timeout if clean_shutdown else 0
                node.driver.power_off(guest, timeout, node.conf.compute.shutdown_retry_interval)
                node.driver.rescue(ctxt, guest, base.vifs(instance.get("network_info")),
                                   image_meta, rescue_password,
                                   node.block_device_info(ctxt, instance))
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.RESCUED, "task_state": None,
                    "power_state": int(node.power_state(guest)), "launched_at": base.now()},
                    expected_task_state=[states.RESCUING])
        except Exception as err:  # the boundary of a cast
            if base.is_deleting(err):
                return
            LOG.warning("Rescue of instance %(uuid)s failed: %(err)s",
                        {"uuid": instance_uuid, "err": err})
            _rescue_failed(node, ctxt, instance_uuid, guest, was_running, err)
            return
        LOG.info("Instance %s is rescued", instance_uuid)


def _rescue_failed(node: base.Node, ctxt: Any, instance_uuid: str,
                   guest: model.Instance | None, was_running: bool, err: Exception) -> None:
    if isinstance(err, exception.UnexpectedTaskStateError):
        node.revert_task_state(ctxt, instance_uuid, err)
        return
    if not isinstance(err, exception.InstanceNotRescuable):
        err = exception.InstanceNotRescuable(instance_id=instance_uuid,
                                             reason="Driver Error: %s" % base.error_message(err))
    values: dict[str, Any] = {"task_state": None}
    if guest is not None:
        if was_running and node.power_state(guest) != power_state.RUNNING:
            try:
                node.driver.power_on(guest)
            except Exception:  # the rescue's error is the one recorded
                LOG.exception("Instance %s: its guest did not start again", instance_uuid)
                node.set_error(ctxt, instance_uuid, err, values={
                    "power_state": int(node.power_state(guest))})
                return
        values["power_state"] = int(node.power_state(guest))
    try:
        node.update(ctxt, instance_uuid, values, expected_task_state=[states.RESCUING])
    except exception.InstanceNotFound:
        return
    except exception.UnexpectedTaskStateError as update_err:
        LOG.warning("Instance %(uuid)s: %(err)s", {"uuid": instance_uuid, "err": update_err})
        return
    node.fault(ctxt, instance_uuid, err)


def unrescue_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    """Unrescue the instance (task_state ``unrescuing``): vm_state ``active``,
    or still ``rescued`` with a fault. Never raises (the boundary of a cast)."""
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, UNRESCUE_EVENT):
                guest = base.driver_instance(instance)
                node.driver.unrescue(ctxt, guest, base.vifs(instance.get("network_info")))
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.ACTIVE, "task_state": None,
                    "power_state": int(node.power_state(guest))},
                    expected_task_state=[states.UNRESCUING])
        except Exception as err:  # the boundary of a cast
            if not base.is_deleting(err):
                LOG.warning("Unrescue of instance %(uuid)s failed: %(err)s",
                            {"uuid": instance_uuid, "err": err})
                node.revert_task_state(ctxt, instance_uuid, err)
            return
        LOG.info("Instance %s is unrescued", instance_uuid)


def recover(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> None:
    """A restarted node's instance in task_state ``rescuing`` or ``unrescuing``
    (see the module docstring)."""
    uuid = str(instance["uuid"])
    task_state = instance.get("task_state")
    rescuing = task_state == states.RESCUING
    LOG.warning("Instance %(uuid)s was %(task)s when the node restarted; %(what)s",
                {"uuid": uuid, "task": task_state,
                 "what": "undoing the rescue" if rescuing else "finishing the unrescue"})
    with node.lock(uuid):
        guest = base.driver_instance(instance)
        try:
            node.driver.unrescue(ctxt, guest, base.vifs(instance.get("network_info")))
        except virt_exception.InstanceNotFound:
            LOG.warning("Instance %s has no guest on this hypervisor", uuid)
        except Exception as err:
            LOG.exception("Instance %s: its own guest could not be put back", uuid)
            node.set_error(ctxt, uuid, "%s: %s" % (
                RESCUE_INTERRUPTED.split(";")[0] if rescuing else UNRESCUE_INTERRUPTED,
                base.error_message(err)), values={"power_state": int(node.power_state(guest))})
            return
        try:
            node.update(ctxt, uuid, {"vm_state": states.ACTIVE, "task_state": None,
                                     "power_state": int(node.power_state(guest))},
                        expected_task_state=[task_state])
        except exception.UnexpectedTaskStateError as err:
            LOG.info("Instance %(uuid)s moved on meanwhile: %(err)s", {"uuid": uuid, "err": err})
            return
        if rescuing:
            node.fault(ctxt, uuid, RESCUE_INTERRUPTED, code=500)

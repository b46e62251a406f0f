"""Deleting an instance: guest, ports, volume attachments (and the volumes to
delete with it), claim, then the row.

Idempotent: an instance that never got a guest (a failed build in ERROR), a
guest already gone, ports already deleted, or a row already soft-deleted are
all fine; running it twice does nothing more. A build waiting for its ports is
woken first (its waiters are cancelled), so the delete does not wait minutes
for the instance's lock.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.node import block_devices
from compute.node import guest as guest_mod

LOG = logging.getLogger(__name__)

TERMINATE_EVENT = "compute_terminate_instance"


def terminate_instance(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    if node.events.cancel(instance_uuid):
        LOG.info("Instance %s is being deleted: stopped waiting for its events", instance_uuid)
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
        except exception.InstanceNotFound:
            _already_deleted(node, ctxt, instance_uuid)
            return
        try:
            with node.action(ctxt, instance_uuid, TERMINATE_EVENT):
                shutdown_instance(node, ctxt, instance)
                node.conductor.instance_destroy(ctxt, instance_uuid)
        except exception.InstanceNotFound:
            pass
        except Exception as err:  # the boundary of a cast: leave a deletable ERROR
            LOG.exception("Deleting instance %s failed", instance_uuid)
            node.set_error(ctxt, instance_uuid, err)
            return
        LOG.info("Instance %(uuid)s deleted from %(host)s",
                 {"uuid": instance_uuid, "host": node.host})


def shutdown_instance(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> None:
    """Everything but the row: the guest, the ports, the volume attachments (and
    the volumes marked ``delete_on_termination``) and the claim. A failure to
    release the ports is raised (the instance then goes to ERROR and a second
    delete retries)."""
    uuid = str(instance["uuid"])
    network_info = instance.get("network_info") or []
    guest = base.driver_instance(instance)
    node.driver.destroy(ctxt, guest, base.vifs(network_info),
                        node.block_device_info(ctxt, instance, bdms=[]))
    node.neighbours.deallocate_for_instance(ctxt, uuid, network_info)
    bdms = guest_mod.detach_all_volumes(node, ctxt, instance)
    block_devices.delete_on_termination(node, ctxt, bdms)
    node.tracker.release(ctxt, uuid)


def _already_deleted(node: base.Node, ctxt: Any, instance_uuid: str) -> None:
    """The row is gone (or soft-deleted): still remove a guest left behind."""
    try:
        instance = node.get(ctxt, instance_uuid, read_deleted=True)
    except exception.InstanceNotFound:
        instance = None
    if instance is not None and instance.get("vm_state") == states.DELETED:
        try:
            node.driver.destroy(ctxt, base.driver_instance(instance),
                                base.vifs(instance.get("network_info")))
        except Exception:
            LOG.exception("Could not destroy the guest of deleted instance %s", instance_uuid)
    node.tracker.release(ctxt, instance_uuid)

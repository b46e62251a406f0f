"""Starting a node: the driver, crash recovery of this host's instances, a report.

What a node finds after a crash (or a plain restart), per instance of its host:

* ``building`` (any build task state): the build cannot be resumed. ERROR with
  a fault "Instance was in BUILD when the compute node restarted" (500), a
  half-made guest destroyed and its claim released, so its resources are
  reported free. The instance keeps its host (and its ports) so that a delete
  still reaches this node and cleans up, as on Nova.
* task_state ``deleting``: the delete is finished.
* a rebuild or a resize past its preparation: ERROR with a fault (the guest may
  be half gone; an administrator resets or the user deletes it).
* ``resize_prep``: nothing happened yet; the task state and flavors are cleared.
* ``rescuing``/``unrescuing``: the server's own guest is put back and started,
  ACTIVE (with a fault for an undone rescue), ERROR with a fault when that
  fails (:mod:`.rescue`).
* ``migrating`` (a live migration from here): it ended with the restart; its
  migration becomes ``error`` (the destination is told to roll back), the task
  state is cleared and the power state synced (the guest is here or not).
* any other task (reboot, power on/off, pause, suspend, snapshot …): the task
  state is cleared, then the power state is synced from the driver.
* no task: the power state is synced. A guest the hypervisor does not know
  while the instance should run is recorded as SHUTDOWN; its vm_state stays.

First of all, the guests of instances evacuated away while the node was down
are destroyed (:mod:`.evacuate`), not recovered. Guests of instances deleted
while the node was down are reaped (``[compute]
running_deleted_instance_action``), then the resources are reported.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from common import rpc
from compute import exception
from compute import states
from compute.node import base
from compute.node import delete
from compute.node import evacuate
from compute.node import power
from compute.node import rescue

LOG = logging.getLogger(__name__)

BUILD_INTERRUPTED = "Instance was in BUILD when the compute node restarted"
REBUILD_INTERRUPTED = "Instance was rebuilding when the compute node restarted"
RESIZE_INTERRUPTED = "Instance was resizing when the compute node restarted"
_REBUILDING = (states.REBUILDING, states.REBUILD_BLOCK_DEVICE_MAPPING,
               states.REBUILD_SPAWNING)
_RESIZING = (states.RESIZE_MIGRATING, states.RESIZE_MIGRATED, states.RESIZE_FINISH,
             states.RESIZE_REVERTING, states.RESIZE_CONFIRMING)
LIVE_IN_PROGRESS = ("accepted", "queued", "preparing", "running")


def init_host(node: base.Node, ctxt: Any) -> None:
    node.driver.init_host(node.host)
    instances = _when_conductor_answers(node, ctxt)
    evacuated = _destroy_evacuated(node, ctxt)
    instances = [i for i in instances if str(i["uuid"]) not in evacuated]
    _fail_live_migrations(node, ctxt)
    LOG.info("Recovering %(count)d instances of %(host)s", {"count": len(instances),
                                                           "host": node.host})
    for instance in instances:
        try:
            recover_instance(node, ctxt, instance)
        except Exception as err:  # one instance must not keep the node down
            if not base.is_deleting(err):
                LOG.exception("Could not recover instance %s", instance.get("uuid"))
    guests = set(node.driver.list_instance_uuids())
    power.reap_deleted_guests(node, ctxt, guests - {str(i["uuid"]) for i in instances})
    try:
        node.tracker.update_available_resource(ctxt)
    except Exception:
        LOG.exception("The first resource report of %s failed", node.host)


def _destroy_evacuated(node: base.Node, ctxt: Any) -> set[str]:
    """The guests of instances evacuated away while this node was down go first
    (they must not be started here); the uuids of those instances."""
    try:
        return evacuate.destroy_evacuated(node, ctxt, evacuate.pending_evacuations(node, ctxt))
    except Exception:
        LOG.exception("Could not clean up after the evacuations from %s", node.host)
        return set()


def _fail_live_migrations(node: base.Node, ctxt: Any) -> None:
    """Live migrations from this host that were under way: they ended with this
    node's restart (the instances are recovered as ``migrating`` below)."""
    try:
        found = node.conductor.migration_get_all_by_source(
            ctxt, node.host, "live-migration", list(LIVE_IN_PROGRESS))
    except Exception:
        LOG.exception("Could not list the live migrations from %s", node.host)
        return
    for migration in found:
        LOG.warning("Live migration %(uuid)s of instance %(instance)s was interrupted",
                    {"uuid": migration["uuid"], "instance": migration["instance_uuid"]})
        try:
            node.conductor.migration_update(ctxt, str(migration["uuid"]), {"status": "error"})
            if migration.get("dest_compute"):
                node.compute_rpc.rollback_live_migration_at_destination(
                    ctxt, str(migration["dest_compute"]), str(migration["instance_uuid"]),
                    str(migration["uuid"]), {})
        except Exception:
            LOG.exception("Could not end live migration %s", migration["uuid"])


def _when_conductor_answers(node: base.Node, ctxt: Any) -> list[dict[str, Any]]:
    """This host's instances, once the conductor answers: a node started before
    its conductor waits for it (as nova-compute does) instead of dying."""
    attempt = 0
    while True:
        try:
            return node.conductor.instance_get_all_by_host(ctxt, node.host)
        except rpc.UNAVAILABLE:
            attempt += 1
            LOG.warning("Timed out waiting for stratus-compute-conductor (attempt %d). Is "
                        "it running? Or did this node start before it?", attempt)


def recover_instance(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> None:
    uuid = str(instance["uuid"])
    vm_state, task_state = instance.get("vm_state"), instance.get("task_state")
    if task_state == states.DELETING:
        LOG.info("Instance %s was being deleted: finishing the delete", uuid)
        delete.terminate_instance(node, ctxt, uuid)
        return
    if vm_state == states.BUILDING:
        _interrupted(node, ctxt, instance, BUILD_INTERRUPTED)
        return
    if task_state in _REBUILDING:
        _interrupted(node, ctxt, instance, REBUILD_INTERRUPTED)
        return
    if task_state in _RESIZING:
        _interrupted(node, ctxt, instance, RESIZE_INTERRUPTED, destroy=False)
        return
    if task_state in (states.RESCUING, states.UNRESCUING):
        rescue.recover(node, ctxt, instance)
        return
    with node.lock(uuid):
        if task_state == states.RESIZE_PREP:
            LOG.info("Instance %s was preparing a resize: clearing it", uuid)
            instance = node.update(ctxt, uuid, {"task_state": None, "old_flavor": None,
                                                "new_flavor": None},
                                   expected_task_state=[task_state])
        elif task_state is not None:
            LOG.info("Instance %(uuid)s was %(task)s: clearing the task state",
                     {"uuid": uuid, "task": task_state})
            instance = node.update(ctxt, uuid, {"task_state": None},
                                   expected_task_state=[task_state])
        power.sync_instance(node, ctxt, instance)


def _interrupted(node: base.Node, ctxt: Any, instance: dict[str, Any], message: str,
                 destroy: bool = True) -> None:
    uuid = str(instance["uuid"])
    LOG.warning("Instance %(uuid)s: %(message)s; putting it in ERROR",
                {"uuid": uuid, "message": message})
    with node.lock(uuid):
        if destroy:
            try:
                node.driver.destroy(ctxt, base.driver_instance(instance),
                                    base.vifs(instance.get("network_info")))
            except Exception:
                LOG.exception("Could not destroy the half-made guest of %s", uuid)
        try:
            node.update(ctxt, uuid, {"vm_state": states.ERROR, "task_state": None,
                                     "power_state": int(node.power_state(
                                         base.driver_instance(instance)))},
                        expected_task_state=[instance.get("task_state")])
        except exception.UnexpectedTaskStateError as err:
            LOG.info("Instance %(uuid)s moved on meanwhile: %(err)s", {"uuid": uuid,
                                                                        "err": err})
            return
        node.fault(ctxt, uuid, message, code=500)
        if destroy:
            node.tracker.release(ctxt, uuid)

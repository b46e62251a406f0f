"""Shelving an instance, offloading it from its host, and unshelving it.

As Nova: ``shelve`` (the API set task_state ``shelving`` and, for an
image-backed server, created the queued image ``<name>-shelved``) powers the
guest off, snapshots its root disk into that image and records vm_state
``shelved`` (the instance's system_metadata keeps ``shelved_at``,
``shelved_image_id`` and ``shelved_host``). With ``[compute]
shelved_offload_time`` 0 it goes on at once to the offload; with a positive
value a periodic task offloads shelved instances that old; -1 never does.

The offload (task_state ``shelving_offloading``) destroys the guest, unbinds
the ports from this host (``binding:host_id`` ''), releases the claim and
clears host and node: vm_state ``shelved_offloaded``, on no host.

``unshelve`` of a ``shelved`` instance powers the kept guest on; of a
``shelved_offloaded`` one (the conductor scheduled it here) it claims, binds
the ports here and spawns from the shelved image. Either way the shelved
image is then deleted and the ``shelved_*`` keys dropped: vm_state ``active``.
A failed shelve keeps its vm_state (task state cleared, fault); a failed
unshelve of an offloaded instance is cleaned up and left offloaded, on no host.
"""
from __future__ import annotations

import datetime
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.node import build
from compute.virt import power_state

LOG = logging.getLogger(__name__)

SHELVE_EVENT = "compute_shelve_instance"
OFFLOAD_EVENT = "compute_shelve_offload_instance"
UNSHELVE_EVENT = "compute_unshelve_instance"
SHELVED_KEYS = ("shelved_at", "shelved_image_id", "shelved_host")


def _timeout(node: base.Node, clean_shutdown: bool) -> int:
    return int(node.conf.compute.shutdown_timeout) if clean_shutdown else 0


def _power_off(node: base.Node, guest: Any, clean_shutdown: bool) -> None:
    if node.power_state(guest) in (power_state.SHUTDOWN, power_state.CRASHED,
                                   power_state.NOSTATE):
        return
    node.driver.power_off(guest, _timeout(node, clean_shutdown),
                          node.conf.compute.shutdown_retry_interval)


# -- shelve ------------------------------------------------------------------------------


def shelve_instance(node: base.Node, ctxt: Any, instance_uuid: str, image_id: str | None,
                    clean_shutdown: bool = True) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, SHELVE_EVENT):
                instance = _shelve(node, ctxt, instance, image_id, clean_shutdown)
        except Exception as err:  # the boundary of a cast
            if not base.is_deleting(err):
                LOG.warning("Shelve of instance %(uuid)s failed: %(err)s",
                            {"uuid": instance_uuid, "err": err})
            if image_id:
                _delete_image(node, ctxt, image_id)
            node.revert_task_state(ctxt, instance_uuid, err)
            return
        LOG.info("Instance %s shelved", instance_uuid)
        if instance.get("task_state") == states.SHELVING_OFFLOADING:
            _offload_boundary(node, ctxt, instance_uuid, clean_shutdown=False)


def _shelve(node: base.Node, ctxt: Any, instance: dict[str, Any], image_id: str | None,
            clean_shutdown: bool) -> dict[str, Any]:
    uuid = str(instance["uuid"])
    guest = base.driver_instance(instance)
    _power_off(node, guest, clean_shutdown)
    expected = [states.SHELVING]
    if image_id:
        node.update(ctxt, uuid, {"task_state": states.SHELVING_IMAGE_PENDING_UPLOAD},
                    expected_task_state=[states.SHELVING])

        def upload(path: str, disk_format: str) -> None:
            node.update(ctxt, uuid, {"task_state": states.SHELVING_IMAGE_UPLOADING},
                        expected_task_state=[states.SHELVING_IMAGE_PENDING_UPLOAD])
            node.neighbours.upload_image(ctxt, image_id, path, disk_format)

        node.driver.snapshot(ctxt, guest, image_id, upload)
        expected = [states.SHELVING_IMAGE_UPLOADING]
    sysmeta = dict(instance.get("system_metadata") or {})
    sysmeta.update(shelved_at=base.now(), shelved_image_id=image_id or "",
                   shelved_host=node.host)
    offload = int(node.conf.compute.shelved_offload_time) == 0
    return node.update(ctxt, uuid, {
        "vm_state": states.SHELVED,
        "task_state": states.SHELVING_OFFLOADING if offload else None,
        "power_state": int(node.power_state(guest)), "system_metadata": sysmeta},
        expected_task_state=expected)


# -- offload -----------------------------------------------------------------------------


def shelve_offload_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                            clean_shutdown: bool = True) -> None:
    with node.lock(instance_uuid):
        _offload_boundary(node, ctxt, instance_uuid, clean_shutdown)


def _offload_boundary(node: base.Node, ctxt: Any, instance_uuid: str,
                      clean_shutdown: bool) -> None:
    try:
        instance = node.get(ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, OFFLOAD_EVENT):
            offload(node, ctxt, instance, clean_shutdown)
    except Exception as err:  # the boundary of a cast
        if not base.is_deleting(err):
            LOG.warning("Offload of instance %(uuid)s failed: %(err)s",
                        {"uuid": instance_uuid, "err": err})
        node.revert_task_state(ctxt, instance_uuid, err)
        return
    LOG.info("Instance %(uuid)s offloaded from %(host)s",
             {"uuid": instance_uuid, "host": node.host})


def offload(node: base.Node, ctxt: Any, instance: dict[str, Any],
            clean_shutdown: bool = True) -> None:
    """Guest, port bindings and claim off this host (task_state
    ``shelving_offloading`` set by the caller)."""
    uuid = str(instance["uuid"])
    guest = base.driver_instance(instance)
    network_info = list(instance.get("network_info") or [])
    _power_off(node, guest, clean_shutdown)
    node.driver.destroy(ctxt, guest, base.vifs(network_info),
                        node.block_device_info(ctxt, instance), destroy_disks=True)
    if network_info:
        network_info = node.neighbours.bind_ports(ctxt, uuid, network_info, "")
    node.update(ctxt, uuid, {"vm_state": states.SHELVED_OFFLOADED, "task_state": None,
                             "host": None, "node": None, "network_info": network_info,
                             "power_state": int(power_state.SHUTDOWN)},
                expected_task_state=[states.SHELVING_OFFLOADING])
    node.tracker.release(ctxt, uuid)


def offload_old_shelved(node: base.Node, ctxt: Any) -> list[str]:
    """The periodic offload: shelved instances older than ``shelved_offload_time``."""
    age = int(node.conf.compute.shelved_offload_time)
    if age <= 0:
        return []
    cutoff = (datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
              - datetime.timedelta(seconds=age)).strftime(base.TIME_FORMAT)
    done = []
    for listed in node.conductor.instance_get_all_by_host(ctxt, node.host):
        shelved_at = str((listed.get("system_metadata") or {}).get("shelved_at") or "")
        if (listed.get("vm_state") != states.SHELVED or listed.get("task_state") is not None
                or not shelved_at or shelved_at > cutoff):
            continue
        uuid = str(listed["uuid"])
        try:
            node.update(ctxt, uuid, {"task_state": states.SHELVING_OFFLOADING},
                        expected_task_state=[None], expected_vm_state=[states.SHELVED])
        except Exception as err:
            LOG.info("Not offloading instance %(uuid)s: %(err)s", {"uuid": uuid, "err": err})
            continue
        with node.lock(uuid):
            _offload_boundary(node, ctxt, uuid, clean_shutdown=False)
        done.append(uuid)
    return done


# -- unshelve ----------------------------------------------------------------------------


def unshelve_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                      node_name: str | None = None,
                      limits: dict[str, Any] | None = None) -> None:
    with node.lock(instance_uuid):
        claimed = False
        guest = None
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, UNSHELVE_EVENT):
                if instance.get("vm_state") == states.SHELVED:
                    instance = _power_on(node, ctxt, instance)
                else:
                    node.tracker.instance_claim(ctxt, instance, limits or {})
                    claimed = True
                    guest = base.driver_instance(instance)
                    instance = _spawn(node, ctxt, instance, node_name or node.host)
        except Exception as err:  # the boundary of a cast
            if base.is_deleting(err) or isinstance(err, exception.UnexpectedTaskStateError):
                if claimed and base.is_deleting(err):
                    _cleanup(node, ctxt, instance_uuid, guest)
                    node.tracker.release(ctxt, instance_uuid)
                return
            LOG.warning("Unshelve of instance %(uuid)s failed: %(err)s",
                        {"uuid": instance_uuid, "err": err})
            if claimed:
                _cleanup(node, ctxt, instance_uuid, guest)
                node.tracker.release(ctxt, instance_uuid)
                _back_offloaded(node, ctxt, instance_uuid, err)
            else:
                node.revert_task_state(ctxt, instance_uuid, err)
            return
    LOG.info("Instance %(uuid)s unshelved on %(host)s", {"uuid": instance_uuid,
                                                         "host": node.host})
    image_id = str((instance.get("system_metadata") or {}).get("shelved_image_id") or "")
    _forget_shelved(node, ctxt, instance)
    if image_id:
        _delete_image(node, ctxt, image_id)


def _power_on(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> dict[str, Any]:
    guest = base.driver_instance(instance)
    node.driver.power_on(guest, base.vifs(instance.get("network_info")),
                         node.block_device_info(ctxt, instance))
    return node.update(ctxt, str(instance["uuid"]), {
        "vm_state": states.ACTIVE, "task_state": None,
        "power_state": int(node.power_state(guest))},
        expected_task_state=[states.UNSHELVING])


def _spawn(node: base.Node, ctxt: Any, instance: dict[str, Any],
           node_name: str) -> dict[str, Any]:
    uuid = str(instance["uuid"])
    instance = node.update(ctxt, uuid, {"host": node.host, "node": node_name},
                           expected_task_state=[states.UNSHELVING])
    network_info = list(instance.get("network_info") or [])
    if network_info:
        network_info = node.neighbours.bind_ports(ctxt, uuid, network_info, node.host)
    instance = node.update(ctxt, uuid, {"network_info": network_info,
                                        "task_state": states.SPAWNING},
                           expected_task_state=[states.UNSHELVING])
    shelved = str((instance.get("system_metadata") or {}).get("shelved_image_id") or "")
    image_ref = shelved or instance.get("image_ref")
    image = node.neighbours.get_image(ctxt, str(image_ref)) if image_ref else None
    guest = base.driver_instance(instance)
    bdms = node.conductor.bdm_get_by_instance(ctxt, uuid)
    build.spawn(node, ctxt, instance, guest, base.image_meta(instance, image),
                network_info, node.block_device_info(ctxt, instance, bdms), bdms)
    return node.update(ctxt, uuid, {
        "vm_state": states.ACTIVE, "task_state": None,
        "power_state": int(node.power_state(guest)), "launched_at": base.now(),
        "launched_on": node.host}, expected_task_state=[states.SPAWNING])


def _cleanup(node: base.Node, ctxt: Any, instance_uuid: str, guest: Any) -> None:
    if guest is None:
        return
    try:
        instance = node.get(ctxt, instance_uuid, read_deleted=True)
        node.driver.destroy(ctxt, guest, base.vifs(instance.get("network_info")),
                            node.block_device_info(ctxt, instance), destroy_disks=True)
    except Exception:
        LOG.exception("Could not clean up the failed unshelve of %s", instance_uuid)


def _back_offloaded(node: base.Node, ctxt: Any, instance_uuid: str,
                    error: BaseException) -> None:
    """Nova's failed unshelve: still offloaded, on no host, with a fault."""
    try:
        node.update(ctxt, instance_uuid, {"vm_state": states.SHELVED_OFFLOADED,
                                          "task_state": None, "host": None, "node": None})
    except exception.InstanceNotFound:
        return
    except Exception:
        LOG.exception("Could not put instance %s back offloaded", instance_uuid)
    node.fault(ctxt, instance_uuid, error)


def _forget_shelved(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> None:
    sysmeta = {k: v for k, v in (instance.get("system_metadata") or {}).items()
               if k not in SHELVED_KEYS}
    try:
        node.update(ctxt, str(instance["uuid"]), {"system_metadata": sysmeta})
    except Exception as err:
        LOG.warning("Could not drop the shelved keys of %(uuid)s: %(err)s",
                    {"uuid": instance["uuid"], "err": err})


def _delete_image(node: base.Node, ctxt: Any, image_id: str) -> None:
    try:
        node.neighbours.delete_image(ctxt, image_id)
    except Exception as err:
        LOG.warning("Could not delete shelved image %(image)s: %(err)s",
                    {"image": image_id, "err": err})

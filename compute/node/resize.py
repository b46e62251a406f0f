"""Resize and cold migration between two nodes (or on one node).

The conductor created the migration and casts ``prep_resize`` to the chosen
destination (the API set task_state ``resize_prep``):

1. ``prep_resize`` (destination): claim the new flavor, fill in the migration
   (``pre-migrating``), remember the flavors on the instance, cast
   ``resize_instance`` to the source.
2. ``resize_instance`` (source): ``resize_migrating``; the driver powers the
   guest off and hands its disks over (``migrate_disk_and_power_off``); the
   source keeps the old flavor's claim (outgoing), the port bindings move to
   the destination, the instance's host becomes the destination
   (``resize_migrated``, migration ``post-migrating``); cast ``finish_resize``.
3. ``finish_resize`` (destination): the driver defines the guest with the new
   size (``finish_migration``); vm_state ``resized`` (VERIFY_RESIZE), flavor =
   new, old_flavor kept; migration ``finished``.
4. Then either ``confirm_resize`` (source: ``confirm_migration`` drops the
   old disks, the old claim goes; migration ``confirmed``) or ``revert_resize``
   (destination: destroy the new guest, drop its claim, bindings back, cast
   ``finish_revert_resize`` to the source, which brings the old guest back
   with the old flavor; migration ``reverted``).

``disk_info`` and the vm_state before the resize travel between the nodes in
the instance's system_metadata (``resize_disk_info``, ``old_vm_state``).
Failures record a fault and set the migration to ``error``; a failure before
the guest was touched only clears the task state (Nova's rollback), later ones
put the instance in ERROR. Migration claims a failure leaves behind are dropped
by the tracker's next resync.
"""
from __future__ import annotations

import json
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.node import config_drive
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import model
from compute.virt import power_state

LOG = logging.getLogger(__name__)

DISK_INFO_KEY = "resize_disk_info"
OLD_VM_STATE_KEY = "old_vm_state"


def _migration(node: base.Node, ctxt: Any, migration_uuid: str,
               **values: Any) -> dict[str, Any]:
    """Update (or, with no values, read) the migration."""
    return node.conductor.migration_update(ctxt, migration_uuid, values)


def _fail(node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
          err: Exception, rollback: bool) -> None:
    """``rollback``: nothing happened to the guest yet -> task_state None (and
    the flavors forgotten); otherwise ERROR. Both leave a fault."""
    if isinstance(err, exception.InstanceNotFound):
        return
    LOG.warning("Resize of instance %(uuid)s failed: %(err)s", {"uuid": instance_uuid,
                                                               "err": err})
    try:
        _migration(node, ctxt, migration_uuid, status="error")
    except Exception:
        LOG.exception("Could not mark migration %s as failed", migration_uuid)
    if rollback:
        try:
            node.update(ctxt, instance_uuid, {"task_state": None, "new_flavor": None,
                                              "old_flavor": None})
        except exception.InstanceNotFound:
            return
        node.fault(ctxt, instance_uuid, err)
    else:
        node.set_error(ctxt, instance_uuid, err)


def _sysmeta(instance: dict[str, Any]) -> dict[str, Any]:
    return dict(instance.get("system_metadata") or {})


def _image_meta(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> model.ImageMeta:
    image_ref = instance.get("image_ref")
    if image_ref:
        try:
            return base.image_meta(instance, node.neighbours.get_image(ctxt, str(image_ref)))
        except Exception as err:  # a deleted image: what the instance remembers of it
            LOG.info("Image %(image)s unavailable (%(err)s); using the instance's copy",
                     {"image": image_ref, "err": err})
    return base.image_meta(instance)


def prep_resize(node: base.Node, ctxt: Any, instance_uuid: str, flavor: dict[str, Any],
                migration_uuid: str, node_name: str, limits: dict[str, Any]) -> None:
    with node.lock(instance_uuid):
        claimed = False
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid, "compute_prep_resize"):
                source = str(instance.get("host") or "")
                if source == node.host and not node.conf.compute.allow_resize_to_same_host:
                    raise exception.UnableToMigrateToSelf(instance_id=instance_uuid,
                                                          host=node.host)
                if not node.driver.supports_migration:
                    raise virt_exception.MigrationNotSupported(driver=node.driver.name)
                node.tracker.resize_claim(ctxt, migration_uuid, flavor, limits)
                claimed = True
                old = dict(instance.get("flavor") or {})
                _migration(node, ctxt, migration_uuid, instance_uuid=instance_uuid,
                           status="pre-migrating", source_compute=source,
                           source_node=instance.get("node"), dest_compute=node.host,
                           dest_node=node_name or node.host,
                           migration_type=("migration" if old.get("flavorid") ==
                                           flavor.get("flavorid") else "resize"),
                           old_flavor_id=old.get("flavorid"),
                           new_flavor_id=flavor.get("flavorid"))
                node.update(ctxt, instance_uuid, {"new_flavor": flavor, "old_flavor": old},
                            expected_task_state=[states.RESIZE_PREP])
            node.compute_rpc.resize_instance(ctxt, source, instance_uuid, migration_uuid)
        except Exception as err:  # the boundary of a cast
            if claimed:
                node.tracker.release(ctxt, rt.incoming(migration_uuid))
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=True)


def resize_instance(node: base.Node, ctxt: Any, instance_uuid: str,
                    migration_uuid: str) -> None:
    with node.lock(instance_uuid):
        handed_over = False
        try:
            instance = node.get(ctxt, instance_uuid)
            migration = _migration(node, ctxt, migration_uuid, status="migrating")
            with node.action(ctxt, instance_uuid, "compute_resize_instance"):
                dest = str(migration["dest_compute"])
                sysmeta = _sysmeta(instance)
                sysmeta[OLD_VM_STATE_KEY] = instance.get("vm_state")
                instance = node.update(ctxt, instance_uuid,
                                       {"task_state": states.RESIZE_MIGRATING,
                                        "system_metadata": sysmeta},
                                       expected_task_state=[states.RESIZE_PREP])
                guest = base.driver_instance(instance)
                network_info = instance.get("network_info") or []
                disk_info = node.driver.migrate_disk_and_power_off(
                    ctxt, guest, dest, dict(instance.get("new_flavor") or {}),
                    base.vifs(network_info))
                handed_over = True
                node.tracker.move_claim(ctxt, instance_uuid, rt.outgoing(migration_uuid))
                if dest != node.host and network_info:
                    network_info = node.neighbours.bind_ports(ctxt, instance_uuid,
                                                              network_info, dest)
                sysmeta[DISK_INFO_KEY] = json.dumps(disk_info)
                node.update(ctxt, instance_uuid, {
                    "task_state": states.RESIZE_MIGRATED, "host": dest,
                    "node": migration.get("dest_node") or dest,
                    "power_state": int(power_state.SHUTDOWN), "network_info": network_info,
                    "system_metadata": sysmeta}, expected_task_state=[states.RESIZE_MIGRATING])
                _migration(node, ctxt, migration_uuid, status="post-migrating")
            node.compute_rpc.finish_resize(ctxt, dest, instance_uuid, migration_uuid)
        except Exception as err:  # the boundary of a cast
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=not handed_over)


def finish_resize(node: base.Node, ctxt: Any, instance_uuid: str,
                  migration_uuid: str) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            migration = _migration(node, ctxt, migration_uuid)
            with node.action(ctxt, instance_uuid, "compute_finish_resize"):
                instance = node.update(ctxt, instance_uuid,
                                       {"task_state": states.RESIZE_FINISH},
                                       expected_task_state=[states.RESIZE_MIGRATED])
                old = dict(instance.get("old_flavor") or instance.get("flavor") or {})
                new = dict(instance.get("new_flavor") or old)
                sysmeta = _sysmeta(instance)
                disk_info = json.loads(sysmeta.pop(DISK_INFO_KEY, None) or "{}")
                power_on = sysmeta.get(OLD_VM_STATE_KEY) != states.STOPPED
                guest = base.driver_instance(instance, new)
                network_info = instance.get("network_info") or []
                image_meta = _image_meta(node, ctxt, instance)
                bdms = node.conductor.bdm_get_by_instance(ctxt, instance_uuid)
                node.driver.finish_migration(
                    ctxt, migration, guest, disk_info, base.vifs(network_info), image_meta,
                    resize_instance=old.get("flavorid") != new.get("flavorid"),
                    block_device_info=node.block_device_info(ctxt, instance, bdms),
                    power_on=power_on,
                    config_drive=config_drive.gather(node, ctxt, instance, bdms=bdms,
                                                     image_meta=image_meta))
                node.tracker.move_claim(ctxt, rt.incoming(migration_uuid), instance_uuid,
                                        rt.Usage.of(new))
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.RESIZED, "task_state": None, "flavor": new,
                    "old_flavor": old, "new_flavor": new, "system_metadata": sysmeta,
                    "power_state": int(node.power_state(guest))},
                    expected_task_state=[states.RESIZE_FINISH])
                _migration(node, ctxt, migration_uuid, status="finished")
        except Exception as err:  # the boundary of a cast
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=False)


def confirm_resize(node: base.Node, ctxt: Any, instance_uuid: str,
                   migration_uuid: str) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            migration = _migration(node, ctxt, migration_uuid)
            with node.action(ctxt, instance_uuid, "compute_confirm_resize"):
                old = dict(instance.get("old_flavor") or instance.get("flavor") or {})
                guest = base.driver_instance(instance, old)
                node.driver.confirm_migration(ctxt, migration, guest,
                                              base.vifs(instance.get("network_info")))
                node.tracker.release(ctxt, rt.outgoing(migration_uuid))
                stopped = instance.get("power_state") == int(power_state.SHUTDOWN)
                sysmeta = _sysmeta(instance)
                sysmeta.pop(OLD_VM_STATE_KEY, None)
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.STOPPED if stopped else states.ACTIVE,
                    "task_state": None, "old_flavor": None, "new_flavor": None,
                    "system_metadata": sysmeta},
                    expected_task_state=[None, states.RESIZE_CONFIRMING],
                    expected_vm_state=[states.RESIZED])
                _migration(node, ctxt, migration_uuid, status="confirmed")
        except Exception as err:  # the boundary of a cast
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=False)


def revert_resize(node: base.Node, ctxt: Any, instance_uuid: str,
                  migration_uuid: str) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            migration = _migration(node, ctxt, migration_uuid)
            with node.action(ctxt, instance_uuid, "compute_revert_resize"):
                source = str(migration["source_compute"])
                network_info = instance.get("network_info") or []
                # On one host the old disks sit beside the new guest's: keep them.
                node.driver.destroy(ctxt, base.driver_instance(instance),
                                    base.vifs(network_info),
                                    node.block_device_info(ctxt, instance),
                                    destroy_disks=source != node.host)
                node.tracker.release(ctxt, instance_uuid)
                node.tracker.release(ctxt, rt.incoming(migration_uuid))
                if source != node.host and network_info:
                    network_info = node.neighbours.bind_ports(ctxt, instance_uuid,
                                                              network_info, source)
                node.update(ctxt, instance_uuid, {
                    "host": source, "node": migration.get("source_node") or source,
                    "network_info": network_info},
                    expected_task_state=[states.RESIZE_REVERTING])
            node.compute_rpc.finish_revert_resize(ctxt, source, instance_uuid,
                                                  migration_uuid)
        except Exception as err:  # the boundary of a cast
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=False)


def finish_revert_resize(node: base.Node, ctxt: Any, instance_uuid: str,
                         migration_uuid: str) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            migration = _migration(node, ctxt, migration_uuid)
            with node.action(ctxt, instance_uuid, "compute_finish_revert_resize"):
                old = dict(instance.get("old_flavor") or instance.get("flavor") or {})
                sysmeta = _sysmeta(instance)
                stopped = sysmeta.pop(OLD_VM_STATE_KEY, None) == states.STOPPED
                sysmeta.pop(DISK_INFO_KEY, None)
                guest = base.driver_instance(instance, old)
                node.driver.finish_revert_migration(
                    ctxt, guest, base.vifs(instance.get("network_info")), migration,
                    node.block_device_info(ctxt, instance), power_on=not stopped)
                node.tracker.move_claim(ctxt, rt.outgoing(migration_uuid), instance_uuid,
                                        rt.Usage.of(old))
                node.update(ctxt, instance_uuid, {
                    "vm_state": states.STOPPED if stopped else states.ACTIVE,
                    "task_state": None, "flavor": old, "old_flavor": None, "new_flavor": None,
                    "system_metadata": sysmeta, "host": node.host,
                    "node": migration.get("source_node") or node.host,
                    "power_state": int(node.power_state(guest))},
                    expected_task_state=[states.RESIZE_REVERTING])
                _migration(node, ctxt, migration_uuid, status="reverted")
        except Exception as err:  # the boundary of a cast
            _fail(node, ctxt, instance_uuid, migration_uuid, err, rollback=False)

"""Evacuation: rebuilding an instance here after its host failed, and the
failed host's clean-up when it comes back.

The API accepted the evacuation only with the source's compute service down
(or forced down) and set task_state ``rebuilding``; the conductor recorded the
migration (type ``evacuation``, ``accepted``), scheduled this node and cast
``evacuate_instance``:

* claim the flavor here (migration ``pre-migrating``), take the instance
  (host and node = this node's, so a delete reaches this node from now on),
  bind its ports here, export its volumes to this host, spawn the guest from
  its image with the volumes (``rebuild_spawning``), power it off again when it
  was stopped; vm_state ``active`` (or ``stopped``), migration ``done``.
* Any failure: the half-made guest is destroyed and the claim released, the
  migration ``failed``, the instance ERROR with a fault (on this host).

The source, when it starts again (:func:`destroy_evacuated`, before crash
recovery), finds the evacuations away from it (``accepted``,
``pre-migrating`` or ``done``) and destroys the guests they left on its
hypervisor instead of starting them; their disks stay when the destination
sees the same instance storage (or cannot be asked). Those migrations become
``completed``.
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import states
from compute.node import base
from compute.node import build
from compute.node import guest as guest_mod
from compute.virt import model

LOG = logging.getLogger(__name__)

EVENT = "compute_rebuild_instance"
# Evacuations whose source must still clean up (Nova's statuses).
PENDING = ["accepted", "pre-migrating", "done"]
EVACUATION = "evacuation"


def _migration(node: base.Node, ctxt: Any, migration_uuid: str,
               **values: Any) -> dict[str, Any]:
    return node.conductor.migration_update(ctxt, migration_uuid, values)


def _image_meta(node: base.Node, ctxt: Any, instance: dict[str, Any]) -> model.ImageMeta:
    image_ref = instance.get("image_ref")
    if not image_ref:
        return base.image_meta(instance)  # volume-backed
    try:
        return base.image_meta(instance, node.neighbours.get_image(ctxt, str(image_ref)))
    except Exception as err:  # a deleted image: what the instance remembers of it
        LOG.info("Image %(image)s unavailable (%(err)s); using the instance's copy",
                 {"image": image_ref, "err": err})
        return base.image_meta(instance)


def evacuate_instance(node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
                      node_name: str | None, limits: dict[str, Any] | None) -> None:
    with node.lock(instance_uuid):
        Evacuation(node, ctxt, instance_uuid, migration_uuid, node_name or node.host,
                   limits or {}).run()


class Evacuation:
    """One evacuation onto this node (called with the instance lock held)."""

    def __init__(self, node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
                 node_name: str, limits: dict[str, Any]) -> None:
        self.node = node
        self.ctxt = ctxt
        self.uuid = instance_uuid
        self.migration_uuid = migration_uuid
        self.node_name = node_name
        self.limits = limits
        self.claimed = False
        self.guest: model.Instance | None = None
        self.network_info: list[dict[str, Any]] = []

    def run(self) -> None:
        try:
            instance = self.node.get(self.ctxt, self.uuid)
            with self.node.action(self.ctxt, self.uuid, EVENT):
                self._rebuild(instance)
            LOG.info("Instance %(uuid)s evacuated to %(host)s",
                     {"uuid": self.uuid, "host": self.node.host})
        except Exception as err:  # the boundary of a cast
            self._failed(err)

    def _rebuild(self, instance: dict[str, Any]) -> None:
        node, ctxt, uuid = self.node, self.ctxt, self.uuid
        was_stopped = instance.get("vm_state") == states.STOPPED
        _migration(node, ctxt, self.migration_uuid, status="pre-migrating",
                   dest_compute=node.host, dest_node=self.node_name)
        node.tracker.instance_claim(ctxt, instance, self.limits)
        self.claimed = True
        instance = node.update(ctxt, uuid, {"host": node.host, "node": self.node_name},
                               expected_task_state=[states.REBUILDING])
        self.network_info = instance.get("network_info") or []
        if self.network_info:
            self.network_info = node.neighbours.bind_ports(ctxt, uuid, self.network_info,
                                                           node.host)
        bdms = node.conductor.bdm_get_by_instance(ctxt, uuid)
        for bdm in bdms:
            if bdm.get("destination_type") != "volume" or not bdm.get("attachment_id"):
                continue
            info = node.neighbours.volume_connect(ctxt, str(bdm["attachment_id"]),
                                                  guest_mod.connector(node),
                                                  bdm.get("device_name"))
            bdm.update(node.conductor.bdm_update(ctxt, str(bdm["uuid"]),
                                                 {"connection_info": info}))
        instance = node.update(ctxt, uuid, {"task_state": states.REBUILD_SPAWNING,
                                            "network_info": self.network_info},
                               expected_task_state=[states.REBUILDING])
        self.guest = base.driver_instance(instance)
        build.spawn(node, ctxt, instance, self.guest, _image_meta(node, ctxt, instance),
                    self.network_info, node.block_device_info(ctxt, instance, bdms), bdms)
        if was_stopped:
            node.driver.power_off(self.guest)
        node.update(ctxt, uuid, {
            "vm_state": states.STOPPED if was_stopped else states.ACTIVE, "task_state": None,
            "power_state": int(node.power_state(self.guest)), "launched_at": base.now(),
            "launched_on": node.host}, expected_task_state=[states.REBUILD_SPAWNING])
        _migration(node, ctxt, self.migration_uuid, status="done")

    def _failed(self, err: Exception) -> None:
        deleting = base.is_deleting(err)
        if not deleting:
            LOG.warning("Evacuation of %(uuid)s to %(host)s failed: %(err)s",
                        {"uuid": self.uuid, "host": self.node.host, "err": err})
        if self.guest is not None:
            try:
                self.node.driver.destroy(self.ctxt, self.guest, base.vifs(self.network_info))
            except Exception:
                LOG.exception("Could not destroy the guest of failed evacuation %s", self.uuid)
        if self.claimed:
            self.node.tracker.release(self.ctxt, self.uuid)
        try:
            _migration(self.node, self.ctxt, self.migration_uuid, status="failed")
        except Exception:
            LOG.exception("Could not mark migration %s failed", self.migration_uuid)
        if not deleting:
            self.node.set_error(self.ctxt, self.uuid, err)


# -- the source, when it starts again --------------------------------------------------


def pending_evacuations(node: base.Node, ctxt: Any) -> list[dict[str, Any]]:
    """The evacuations away from this host it has not cleaned up after."""
    return node.conductor.migration_get_all_by_source(ctxt, node.host, EVACUATION, PENDING)


def destroy_evacuated(node: base.Node, ctxt: Any,
                      migrations: list[dict[str, Any]]) -> set[str]:
    """Destroy the guests evacuated instances left here; the uuids handled."""
    guests = set(node.driver.list_instance_uuids())
    handled = set()
    for migration in migrations:
        uuid = str(migration["instance_uuid"])
        handled.add(uuid)
        if uuid in guests:
            try:
                instance = node.get(ctxt, uuid, read_deleted=True)
                with node.lock(uuid):
                    keep_disks = _shares_storage(node, ctxt, migration.get("dest_compute"))
                    LOG.warning("Destroying the guest of instance %(uuid)s here: it was "
                                "evacuated to %(dest)s%(disks)s",
                                {"uuid": uuid, "dest": migration.get("dest_compute"),
                                 "disks": " (keeping its disks)" if keep_disks else ""})
                    node.driver.destroy(ctxt, base.driver_instance(instance),
                                        base.vifs(instance.get("network_info")),
                                        destroy_disks=not keep_disks)
            except Exception:
                LOG.exception("Could not destroy the evacuated guest of %s", uuid)
                continue
        try:
            _migration(node, ctxt, str(migration["uuid"]), status="completed")
        except Exception:
            LOG.exception("Could not complete migration %s", migration["uuid"])
    return handled


def _shares_storage(node: base.Node, ctxt: Any, dest: str | None) -> bool:
    """Whether ``dest`` sees this host's instance files: a test file here, asked
    there. Unknown (no destination, no answer) counts as shared: disks stay."""
    name = node.driver.create_shared_storage_test_file()
    if name is None:
        return False
    try:
        if not dest:
            return True
        return bool(node.compute_rpc.check_instance_shared_storage(ctxt, dest, name))
    except Exception as err:
        LOG.warning("Could not ask %(dest)s about shared storage (%(err)s); keeping the "
                    "disks", {"dest": dest, "err": err})
        return True
    finally:
        node.driver.cleanup_shared_storage_test_file(name)

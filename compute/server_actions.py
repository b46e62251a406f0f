"""Server actions (``POST /servers/{id}/action``): the rules of each one.

Every action follows Nova's order: the lock (409 for non-admins on a locked
server), the state (409 "Cannot '<action>' instance <uuid> while it is in
vm_state <state>"), then a compare-and-set of the task state (a concurrent
action gets a 409), the instance action record, and the cast to the server's
node (resize and cold migration go to the conductor, which picks the
destination). A cast the bus refuses puts the task state back and answers 503.
Policy is the API layer's, checked before any of this.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import exception
from compute import server_create
from compute import servers as servers_service
from compute import states
from compute.clients import image as image_client
from compute.db import instances as instances_db
from compute.db import models
from compute.metadata import content as metadata_content

LOG = logging.getLogger(__name__)
ALLOW_HARD_REBOOT = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED,
                     states.ERROR)
ALLOW_REBOOT_TASKS = (None, states.REBOOTING, states.REBOOT_PENDING, states.REBOOT_STARTED,
                      states.RESUMING, states.REBOOTING_HARD, states.UNPAUSING,
                      states.PAUSING, states.SUSPENDING)
SNAPSHOT_STATES = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
REBUILD_STATES = (states.ACTIVE, states.STOPPED, states.ERROR)
RESIZE_STATES = (states.ACTIVE, states.STOPPED)
# The simple power actions: allowed vm_states, the task state while it runs,
# and the node's method.
POWER_ACTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "start": ((states.STOPPED,), states.POWERING_ON, "start_instance"),
    "stop": ((states.ACTIVE, states.ERROR), states.POWERING_OFF, "stop_instance"),
    "pause": ((states.ACTIVE,), states.PAUSING, "pause_instance"),
    "unpause": ((states.PAUSED,), states.UNPAUSING, "unpause_instance"),
    "suspend": ((states.ACTIVE,), states.SUSPENDING, "suspend_instance"),
    "resume": ((states.SUSPENDED,), states.RESUMING, "resume_instance"),
}
CONDUCTOR = ""  # the "host" of a cast to the conductor
SHELVE_STATES = {"shelve": SNAPSHOT_STATES, "shelveOffload": (states.SHELVED,),
                 "unshelve": (states.SHELVED, states.SHELVED_OFFLOADED)}
# Image properties a snapshot does not inherit from its server's image.
_NOT_INHERITED = frozenset(("base_image_ref", "image_location", "image_state", "image_type",
                            "instance_uuid", "owner_id", "user_id", "backup_type", "id",
                            "name", "min_ram", "min_disk", "disk_format", "container_format",
                            "os_glance_importing_to_stores", "os_glance_failed_import"))


class ServerActions:
    def __init__(self, servers: servers_service.ServerService,
                 builder: server_create.ServerBuilder) -> None:
        self.servers = servers
        self.builder = builder
        self.store = servers.store
        self.conf = servers.conf

    # -- helpers
    _host = staticmethod(servers_service.host_of)

    def _cast(self, instance: Mapping[str, Any], task_state: str | None, host: str,
              cast: Callable[[], None]) -> None:
        """Cast; when the bus refuses, put the task state back (from ``task_state``)."""
        try:
            cast()
        except rpc.UNAVAILABLE as err:
            LOG.warning("Cast for instance %(uuid)s failed: %(err)s",
                        {"uuid": instance["uuid"], "err": err})
            if task_state is not None:
                try:
                    self.store.update(instance["uuid"], {"task_state": None},
                                      expected_task_state=task_state)
                except common_exception.Error:
                    LOG.warning("Task state of %s not reverted", instance["uuid"])
            if host == CONDUCTOR:
                raise common_exception.ServiceUnavailable(
                    reason="the compute conductor did not take the request") from err
            raise exception.ComputeServiceUnavailable(host=host) from err

    def _start_task(self, ctxt: Any, instance: Mapping[str, Any], action: str,
                    vm_states: tuple[str, ...], task_state: str,
                    task_states: tuple[str | None, ...] = (None,),
                    extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.servers.check_state(instance, action, vm_states, task_states)
        values = dict(extra or {}, task_state=task_state)
        updated = self.servers.set_states(instance, values, vm_states, task_states)
        self.servers.record_action(ctxt, instance["uuid"], action)
        return updated

    # -- power
    def power(self, ctxt: Any, instance: Mapping[str, Any], action: str) -> None:
        """os-start, os-stop, pause, unpause, suspend, resume."""
        vm_states, task_state, method = POWER_ACTIONS[action]
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, action, vm_states)
        host = self._host(instance)
        self._start_task(ctxt, instance, action, vm_states, task_state)
        uuid = instance["uuid"]
        self._cast(instance, task_state, host,
                   lambda: getattr(self.servers.node(), method)(ctxt, host, uuid))

    def reboot(self, ctxt: Any, instance: Mapping[str, Any], reboot_type: str) -> None:
        self.servers.check_locked(ctxt, instance)
        if reboot_type == "SOFT":
            vm_states: tuple[str, ...] = (states.ACTIVE,)
            tasks: tuple[str | None, ...] = (None,)
            task_state = states.REBOOTING
        else:
            vm_states, tasks, task_state = (ALLOW_HARD_REBOOT, ALLOW_REBOOT_TASKS,
                                            states.REBOOTING_HARD)
        self.servers.check_state(instance, "reboot", vm_states, tasks)
        host = self._host(instance)
        self._start_task(ctxt, instance, "reboot", vm_states, task_state, tasks)
        uuid = instance["uuid"]
        self._cast(instance, task_state, host, lambda: self.servers.node().reboot_instance(
            ctxt, host, uuid, reboot_type))

    # -- rebuild
    def rebuild(self, ctxt: Any, instance: Mapping[str, Any], image_ref: str,
                values: Mapping[str, Any], metadata: Mapping[str, str] | None,
                preserve_ephemeral: bool = False) -> dict[str, Any]:
        """Re-create the server's disk from ``image_ref``; ``values`` are columns
        to set with it (name, access IPs, description, disk config).

        :returns: the server as it is now (task_state ``rebuilding``).
        """
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "rebuild", REBUILD_STATES)
        host = self._host(instance)
        new_image = server_create.image_id(image_ref) or ""
        if not instance["image_ref"]:
            raise common_exception.Invalid(
                "Rebuilding a volume-backed server is not supported by this cloud yet.")
        image = self.builder.get_image(ctxt, new_image)
        self.builder.check_flavor_fits(ctxt, instance["flavor"], image, False)
        if metadata is not None:
            limit = self.servers.quotas.limits(instance["project_id"],
                                               instance["user_id"])["metadata_items"]
            if 0 <= limit < len(metadata):
                raise exception.MetadataLimitExceeded(allowed=limit)
        sysmeta = {k: v for k, v in (instance["system_metadata"] or {}).items()
                   if not k.startswith("image_")}
        sysmeta.update(server_create.image_system_metadata(image))
        extra = dict(values, image_ref=new_image, system_metadata=sysmeta, progress=0)
        self._start_task(ctxt, instance, "rebuild", REBUILD_STATES, states.REBUILDING,
                         extra=extra)
        uuid = instance["uuid"]
        if metadata is not None:
            self.store.set_metadata(uuid, metadata, replace=True)
        self._cast(instance, states.REBUILDING, host,
                   lambda: self.servers.node().rebuild_instance(
                       ctxt, host, uuid, new_image, preserve_ephemeral))
        return self.store.get(uuid)

    # -- resize and migrate
    def resize(self, ctxt: Any, instance: Mapping[str, Any], flavor_ref: str,
               auto_disk_config: bool | None = None) -> None:
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "resize", RESIZE_STATES)
        self._host(instance)
        try:
            new = self.servers.flavors.get(ctxt, server_create.last_segment(flavor_ref))
        except exception.FlavorNotFound as err:
            raise common_exception.Invalid("Unable to locate requested flavor.") from err
        current = instance["flavor"] or {}
        if new["disabled"]:
            raise common_exception.Invalid("Unable to locate requested flavor.")
        if new["flavorid"] == current.get("flavorid"):
            raise exception.CannotResizeToSameFlavor()
        if instance["image_ref"]:
            if int(new["root_gb"]) == 0 and int(current.get("root_gb") or 0) != 0:
                raise exception.CannotResizeDisk(
                    reason="Resize to zero disk flavor is not allowed.")
            if int(new["root_gb"]) < int(current.get("root_gb") or 0):
                raise common_exception.Invalid("Resize error: Unable to resize disk down.")
        self._check_upsize(instance, current, new)
        extra = {"progress": 0}
        if auto_disk_config is not None:
            extra["auto_disk_config"] = auto_disk_config
        self._start_task(ctxt, instance, "resize", RESIZE_STATES, states.RESIZE_PREP,
                         extra=extra)
        record = server_create.flavor_record(new)
        uuid = instance["uuid"]
        self._cast(instance, states.RESIZE_PREP, CONDUCTOR,
                   lambda: self.servers.conductor().migrate_server(ctxt, uuid, record, None))

    def _check_upsize(self, instance: Mapping[str, Any], old: Mapping[str, Any],
                      new: Mapping[str, Any]) -> None:
        deltas = {"cores": int(new["vcpus"]) - int(old.get("vcpus") or 0),
                  "ram": int(new["memory_mb"]) - int(old.get("memory_mb") or 0)}
        deltas = {k: v for k, v in deltas.items() if v > 0}
        if deltas:
            self.servers.quotas.check(instance["project_id"], instance["user_id"], deltas)

    def migrate(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        """Cold migration to a host the scheduler picks (admin)."""
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "migrate", RESIZE_STATES)
        self._host(instance)
        self._start_task(ctxt, instance, "migrate", RESIZE_STATES, states.RESIZE_PREP,
                         extra={"progress": 0})
        uuid = instance["uuid"]
        self._cast(instance, states.RESIZE_PREP, CONDUCTOR,
                   lambda: self.servers.conductor().migrate_server(ctxt, uuid, None, None))

    def _finished_migration(self, instance_uuid: str) -> dict[str, Any]:
        """The newest migration of the instance that is ``finished`` (VERIFY_RESIZE)."""
        mig = models.Migration
        with self.servers.db.reader() as session:
            row = session.scalars(sa.select(mig).where(
                mig.instance_uuid == instance_uuid, mig.status == "finished").order_by(
                    mig.created_at.desc(), mig.id.desc())).first()
            if row is None:
                raise exception.InstanceNotResized()
            return {"uuid": row.uuid, "source_compute": row.source_compute,
                    "dest_compute": row.dest_compute,
                    "old_flavor_id": row.old_flavor_id, "new_flavor_id": row.new_flavor_id}

    def _migration_status(self, migration_uuid: str, status: str) -> None:
        """Compare-and-set ``finished`` -> ``status``; :raises: InstanceNotResized."""
        mig = models.Migration
        with self.servers.db.writer() as session:
            result = session.execute(sa.update(mig).where(
                mig.uuid == migration_uuid, mig.status == "finished").values(status=status))
            if not getattr(result, "rowcount", 0):
                raise exception.InstanceNotResized()

    def confirm_resize(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        self.servers.check_state(instance, "confirmResize", (states.RESIZED,))
        migration = self._finished_migration(instance["uuid"])
        host = str(migration["source_compute"] or instance["host"])
        self._migration_status(migration["uuid"], "confirming")
        self.servers.record_action(ctxt, instance["uuid"], "confirmResize")
        uuid = instance["uuid"]
        self._cast(instance, None, host, lambda: self.servers.node().confirm_resize(
            ctxt, host, uuid, migration["uuid"]))

    def revert_resize(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "revertResize", (states.RESIZED,))
        migration = self._finished_migration(instance["uuid"])
        host = str(migration["dest_compute"] or instance["host"])
        old = instance["old_flavor"]
        if old:
            self._check_upsize(instance, instance["flavor"] or {}, old)
        self._start_task(ctxt, instance, "revertResize", (states.RESIZED,),
                         states.RESIZE_REVERTING)
        self._migration_status(migration["uuid"], "reverting")
        uuid = instance["uuid"]
        self._cast(instance, states.RESIZE_REVERTING, host,
                   lambda: self.servers.node().revert_resize(ctxt, host, uuid,
                                                             migration["uuid"]))

    # -- snapshots
    def _image_properties(self, ctxt: Any, instance: Mapping[str, Any],
                          metadata: Mapping[str, str], image_type: str) -> dict[str, Any]:
        sysmeta = instance["system_metadata"] or {}
        props: dict[str, Any] = {key[len("image_"):]: value for key, value in sysmeta.items()
                                 if key.startswith("image_")
                                 and key[len("image_"):] not in _NOT_INHERITED}
        props.update(metadata)
        root_gb = int((instance["flavor"] or {}).get("root_gb") or 0)
        props.update(instance_uuid=instance["uuid"], image_type=image_type,
                     user_id=ctxt.user_id, base_image_ref=instance["image_ref"] or None,
                     min_ram=int(sysmeta.get("image_min_ram") or 0),
                     min_disk=max(int(sysmeta.get("image_min_disk") or 0), root_gb))
        return props

    def snapshot(self, ctxt: Any, instance: Mapping[str, Any], name: str,
                 metadata: Mapping[str, str], backup_type: str | None = None,
                 rotation: int | None = None, metadata_quota: bool = True) -> str | None:
        """createImage (or, with ``backup_type``, createBackup): a queued image the
        node fills; ``metadata`` counts against the ``metadata_items`` quota unless
        not ``metadata_quota`` (microversion 2.39 on, as Nova: the image service's
        own limit applies). :returns: the new image's id (None for a backup with
        rotation 0, which keeps no backup and so makes none)."""
        action = "createBackup" if backup_type is not None else "createImage"
        self.servers.check_state(instance, action, SNAPSHOT_STATES)
        host = self._host(instance)
        if not instance["image_ref"]:
            raise common_exception.Invalid(
                "Snapshots of volume-backed servers are not supported by this cloud yet.")
        if metadata_quota:
            limit = self.servers.quotas.limits(instance["project_id"],
                                               instance["user_id"])["metadata_items"]
            if 0 <= limit < len(metadata):
                raise exception.MetadataLimitExceeded(allowed=limit)
        if rotation == 0:
            self.servers.record_action(ctxt, instance["uuid"], action)
            return None
        props = self._image_properties(ctxt, instance, metadata,
                                       "backup" if backup_type is not None else "snapshot")
        if backup_type is not None:
            props["backup_type"] = backup_type
        image = image_client.create_image(self.conf, ctxt, name, **props)
        image_id = str(image["id"])
        task = states.IMAGE_BACKUP if backup_type is not None else states.IMAGE_SNAPSHOT
        try:
            self._start_task(ctxt, instance, action, SNAPSHOT_STATES, task)
        except common_exception.Error:
            image_client.delete_image(self.conf, ctxt, image_id)
            raise
        uuid = instance["uuid"]
        self._cast(instance, task, host, lambda: self.servers.node().snapshot_instance(
            ctxt, host, uuid, image_id, backup_type, rotation))
        return image_id

    # -- the rest
    def console_output(self, ctxt: Any, instance: Mapping[str, Any],
                       length: int | None) -> str:
        host = self._host(instance)
        return servers_service.call_node(
            "Console output", instance["uuid"], host,
            lambda: self.servers.node().get_console_output(ctxt, host, instance["uuid"],
                                                           tail_length=length))

    def reset_state(self, ctxt: Any, instance: Mapping[str, Any], state: str) -> None:
        vm_state = states.ACTIVE if state == "active" else states.ERROR
        self.store.update(instance["uuid"], {"vm_state": vm_state, "task_state": None},
                          expected_task_state=instances_db.ANY)
        self.servers.record_api_action(ctxt, instance["uuid"], "resetState", "reset_state")

    @staticmethod
    def locked_by_caller_kind(ctxt: Any, instance: Mapping[str, Any]) -> bool:
        """Whether the lock was taken by the caller's kind (owner or admin); if not,
        unlocking needs ``os-lock-server:unlock:unlock_override``."""
        expected = "owner" if instance["project_id"] == ctxt.project_id else "admin"
        return not instance["locked_by"] or instance["locked_by"] == expected

    def lock(self, ctxt: Any, instance: Mapping[str, Any], reason: str | None = None) -> None:
        is_owner = instance["project_id"] == ctxt.project_id
        if instance["locked"] and is_owner:
            return
        self.store.update(instance["uuid"], {"locked": True, "locked_reason": reason,
                                             "locked_by": "owner" if is_owner else "admin"})
        self.servers.record_api_action(ctxt, instance["uuid"], "lock", "lock")

    def unlock(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        self.store.update(instance["uuid"], {"locked": False, "locked_by": None,
                                             "locked_reason": None})
        self.servers.record_api_action(ctxt, instance["uuid"], "unlock", "unlock")

    def change_password(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        """No driver here sets guest passwords: after the checks, Nova's 501."""
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "changePassword", (states.ACTIVE,))
        self._host(instance)
        raise exception.SetAdminPasswordNotSupported()

    def shelve(self, ctxt: Any, instance: Mapping[str, Any], action: str) -> None:
        """shelve, shelveOffload, unshelve (Nova's os-shelve)."""
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, action, SHELVE_STATES[action])
        if action == "shelve":
            self._shelve(ctxt, instance)
        elif action == "shelveOffload":
            self._shelve_offload(ctxt, instance)
        else:
            self._unshelve(ctxt, instance)

    def _shelve(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        host = self._host(instance)
        image_id: str | None = None
        if instance["image_ref"]:
            props = self._image_properties(ctxt, instance, {}, "snapshot")
            name = "%s-shelved" % (instance["display_name"] or instance["uuid"])
            image_id = str(image_client.create_image(self.conf, ctxt, name, **props)["id"])
        try:
            self._start_task(ctxt, instance, "shelve", SHELVE_STATES["shelve"],
                             states.SHELVING)
        except common_exception.Error:
            if image_id:
                image_client.delete_image(self.conf, ctxt, image_id)
            raise
        uuid = instance["uuid"]
        try:
            self._cast(instance, states.SHELVING, host,
                       lambda: self.servers.node().shelve_instance(
                           ctxt, host, instance_uuid=uuid, image_id=image_id))
        except common_exception.Error:
            if image_id:
                image_client.delete_image(self.conf, ctxt, image_id)
            raise

    def _shelve_offload(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        host = self._host(instance)
        self._start_task(ctxt, instance, "shelveOffload", (states.SHELVED,),
                         states.SHELVING_OFFLOADING)
        uuid = instance["uuid"]
        self._cast(instance, states.SHELVING_OFFLOADING, host,
                   lambda: self.servers.node().shelve_offload_instance(
                       ctxt, host, instance_uuid=uuid))

    def _unshelve(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        uuid = instance["uuid"]
        if instance["vm_state"] == states.SHELVED:
            host = self._host(instance)
            self._start_task(ctxt, instance, "unshelve", (states.SHELVED,), states.UNSHELVING)
            self._cast(instance, states.UNSHELVING, host,
                       lambda: self.servers.node().unshelve_instance(
                           ctxt, host, instance_uuid=uuid))
            return
        self._start_task(ctxt, instance, "unshelve", (states.SHELVED_OFFLOADED,),
                         states.UNSHELVING)
        self._cast(instance, states.UNSHELVING, CONDUCTOR,
                   lambda: self.servers.conductor().unshelve_instance(
                       ctxt, instance_uuid=uuid))

    # -- os-server-password and diagnostics
    @staticmethod
    def password(instance: Mapping[str, Any]) -> str:
        """The guest's encrypted password as the metadata service stored it ('' if none)."""
        return metadata_content.password_from_system_metadata(instance["system_metadata"])

    def clear_password(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        sysmeta = dict(instance["system_metadata"] or {})
        sysmeta.update(metadata_content.password_to_system_metadata(""))
        self.store.update(instance["uuid"], {"system_metadata": sysmeta})

    def diagnostics(self, ctxt: Any, instance: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's free-form diagnostics (the shape before microversion 2.48).

        :raises: InstanceInvalidState (409) for a server on no host or not running
            there yet, ComputeServiceUnavailable (503) when its node is unreachable.
        """
        if not instance["host"] or instance["vm_state"] in (states.BUILDING,
                                                            states.SHELVED_OFFLOADED):
            raise exception.InstanceInvalidState(
                action="get_diagnostics", instance_uuid=instance["uuid"], attr="vm_state",
                state=instance["vm_state"])
        host = str(instance["host"])
        return servers_service.call_node(
            "Diagnostics", instance["uuid"], host, lambda: self.servers.node().get_diagnostics(
                ctxt, host, instance_uuid=instance["uuid"], standard=False))

    def restore(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        """Servers are never soft-deleted here, so there is nothing to restore."""
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "restore", (states.SOFT_DELETED,))
        raise exception.ServerActionNotSupported(action="restore")

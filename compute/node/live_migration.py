"""Live migration between two nodes: the steps each node runs.

The conductor checked both ends (``check_can_live_migrate_destination`` claims
the instance's flavor on the destination, keyed ``incoming:<migration>``;
``check_can_live_migrate_source`` lets the source's driver decide block
migration), set the migration ``queued`` and cast ``live_migration`` to the
source; the API had set task_state ``migrating``. Then:

1. ``live_migration`` (source): migration ``preparing``; a call to the
   destination's ``pre_live_migration``, which binds the ports to the
   destination (network service port binding update: the destination's agent
   plugs the taps the incoming guest gets), exports the volumes to the
   destination's connector and lets the driver prepare (disks, volumes).
2. Migration ``running``; the source's driver moves the guest (blocking).
3. Success: the source's driver cleans up there, the source's claim goes, the
   instance names the destination as its host, and ``post_live_migration_at_
   destination`` is cast: the volumes' new connections recorded, the driver's
   last step, the incoming claim becomes the instance's, task_state None,
   migration ``completed``.
4. Failure (pre or the move): the guest still runs on the source. Ports and
   volumes go back to the source, the destination is cast
   ``rollback_live_migration_at_destination`` (its driver undoes, its claim
   goes), the migration becomes ``error`` (``cancelled`` after an abort), the
   instance keeps its vm_state with task_state None and a fault (none for an
   abort).

What travels between the steps (``migrate_data``) is the drivers' data plus
``source_connector`` (so a destination can give the volumes back),
``network_info`` (the ports bound to the destination) and ``connection_info``
(bdm uuid -> the volume's connection on the destination).
"""
from __future__ import annotations

from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.node import base
from compute.node import config_drive
from compute.node import guest as guest_mod
from compute.node import resource_tracker as rt
from compute.virt import exception as virt_exception
from compute.virt import model

LOG = logging.getLogger(__name__)

MIGRATING = [states.MIGRATING]


def _migration(node: base.Node, ctxt: Any, migration_uuid: str,
               **values: Any) -> dict[str, Any]:
    return node.conductor.migration_update(ctxt, migration_uuid, values)


def _volume_bdms(node: base.Node, ctxt: Any, instance_uuid: str,
                 bdms: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The attached volumes' mappings (of ``bdms`` when given, else read)."""
    if bdms is None:
        bdms = node.conductor.bdm_get_by_instance(ctxt, instance_uuid)
    return [b for b in bdms
            if b.get("destination_type") == "volume" and b.get("attachment_id")]


def _with_connections(instance: dict[str, Any], bdms: list[dict[str, Any]],
                      connections: dict[str, Any]) -> model.BlockDeviceInfo:
    """The block device info with the volumes' connections on the destination."""
    volumes = tuple(model.BlockDevice(mount_device=str(b["device_name"]),
                                      connection_info=connections.get(str(b["uuid"]))
                                      or b.get("connection_info") or {})
                    for b in bdms if b.get("device_name"))
    return model.BlockDeviceInfo(
        root_device_name=instance.get("root_device_name") or base.DEFAULT_ROOT_DEVICE,
        volumes=volumes)


def _give_back(node: base.Node, ctxt: Any, instance: dict[str, Any],
               bdms: list[dict[str, Any]], host: str, connector: dict[str, Any]) -> None:
    """Ports and volumes back to ``host`` (the source); best effort, each logged."""
    uuid = str(instance["uuid"])
    network_info = instance.get("network_info") or []
    if network_info:
        try:
            node.neighbours.bind_ports(ctxt, uuid, network_info, host)
        except Exception:
            LOG.exception("Could not bind the ports of %(uuid)s to %(host)s again",
                          {"uuid": uuid, "host": host})
    for bdm in bdms:
        try:
            node.neighbours.volume_connect(ctxt, str(bdm["attachment_id"]), connector,
                                           bdm.get("device_name"))
        except Exception:
            LOG.exception("Could not connect volume attachment %s to the source again",
                          bdm["attachment_id"])


# -- the checks (calls from the conductor) ---------------------------------------------


def check_can_live_migrate_destination(node: base.Node, ctxt: Any, instance_uuid: str,
                                       migration_uuid: str, block_migration: bool | None,
                                       limits: dict[str, Any]) -> dict[str, Any]:
    """Claim the instance's flavor here and ask the driver; the claim stays for
    the migration (released by the rollback, or the resync once it ended)."""
    instance = node.get(ctxt, instance_uuid)
    with node.action(ctxt, instance_uuid, "compute_check_can_live_migrate_destination"):
        if not node.driver.supports_live_migration:
            raise virt_exception.LiveMigrationNotSupported(driver=node.driver.name)
        if instance.get("host") == node.host:
            raise exception.UnableToMigrateToSelf(instance_id=instance_uuid, host=node.host)
        node.tracker.resize_claim(ctxt, migration_uuid, dict(instance.get("flavor") or {}),
                                  limits)
        try:
            data = node.driver.check_can_live_migrate_destination(
                ctxt, base.driver_instance(instance), block_migration)
        except BaseException:
            node.tracker.release(ctxt, rt.incoming(migration_uuid))
            raise
    return dict(data, dest_host=node.host)


def check_can_live_migrate_source(node: base.Node, ctxt: Any, instance_uuid: str,
                                  dest_check_data: dict[str, Any]) -> dict[str, Any]:
    instance = node.get(ctxt, instance_uuid)
    with node.action(ctxt, instance_uuid, "compute_check_can_live_migrate_source"):
        if instance.get("host") != node.host:
            raise virt_exception.MigrationPreCheckError(
                reason="instance %s is not on %s" % (instance_uuid, node.host))
        return node.driver.check_can_live_migrate_source(
            ctxt, base.driver_instance(instance), dest_check_data)


# -- the destination -------------------------------------------------------------------


def pre_live_migration(node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
                       migrate_data: dict[str, Any]) -> dict[str, Any]:
    """Ports bound here, volumes exported here, the driver ready (with the
    instance's config drive, for a driver that must write it here); on failure
    the ports and volumes go back to the source before the error goes back."""
    instance = node.get(ctxt, instance_uuid)
    source = str(instance.get("host") or "")
    every_bdm = node.conductor.bdm_get_by_instance(ctxt, instance_uuid)
    bdms = _volume_bdms(node, ctxt, instance_uuid, every_bdm)
    data = dict(migrate_data)
    with node.action(ctxt, instance_uuid, "compute_pre_live_migration"):
        try:
            network_info = instance.get("network_info") or []
            if network_info:
                network_info = node.neighbours.bind_ports(ctxt, instance_uuid, network_info,
                                                          node.host)
            connections: dict[str, Any] = {}
            for bdm in bdms:
                connections[str(bdm["uuid"])] = node.neighbours.volume_connect(
                    ctxt, str(bdm["attachment_id"]), guest_mod.connector(node),
                    bdm.get("device_name"))
            drive = config_drive.gather(node, ctxt, instance, network_info, every_bdm)
            data = node.driver.pre_live_migration(
                ctxt, base.driver_instance(instance), base.vifs(network_info),
                _with_connections(instance, bdms, connections), data, config_drive=drive)
        except BaseException:
            _give_back(node, ctxt, instance, bdms, source,
                       dict(migrate_data.get("source_connector") or {}))
            raise
    data.update(network_info=network_info, connection_info=connections)
    return data


def post_live_migration_at_destination(node: base.Node, ctxt: Any, instance_uuid: str,
                                       migration_uuid: str,
                                       migrate_data: dict[str, Any]) -> None:
    with node.lock(instance_uuid):
        try:
            instance = node.get(ctxt, instance_uuid)
            with node.action(ctxt, instance_uuid,
                             "compute_post_live_migration_at_destination"):
                for bdm_uuid, info in dict(migrate_data.get("connection_info") or {}).items():
                    node.conductor.bdm_update(ctxt, bdm_uuid, {"connection_info": info})
                guest = base.driver_instance(instance)
                node.driver.post_live_migration_at_destination(
                    ctxt, guest, base.vifs(instance.get("network_info")),
                    node.block_device_info(ctxt, instance), migrate_data)
                node.tracker.move_claim(ctxt, rt.incoming(migration_uuid), instance_uuid,
                                        rt.Usage.of(_sized(instance)))
                node.update(ctxt, instance_uuid, {
                    "task_state": None, "power_state": int(node.power_state(guest))},
                    expected_task_state=MIGRATING)
                _migration(node, ctxt, migration_uuid, status="completed")
            LOG.info("Instance %(uuid)s live-migrated to %(host)s",
                     {"uuid": instance_uuid, "host": node.host})
        except Exception as err:  # the boundary of a cast
            if base.is_deleting(err):
                return
            LOG.exception("Finishing the live migration of %s failed", instance_uuid)
            _mark(node, ctxt, migration_uuid, "error")
            node.set_error(ctxt, instance_uuid, err)


def rollback_live_migration_at_destination(node: base.Node, ctxt: Any, instance_uuid: str,
                                           migration_uuid: str,
                                           migrate_data: dict[str, Any]) -> None:
    try:
        instance = node.get(ctxt, instance_uuid, read_deleted=True)
        with node.action(ctxt, instance_uuid,
                         "compute_rollback_live_migration_at_destination"):
            bdms = _volume_bdms(node, ctxt, instance_uuid)
            node.driver.rollback_live_migration_at_destination(
                ctxt, base.driver_instance(instance), base.vifs(instance.get("network_info")),
                _with_connections(instance, bdms,
                                  dict(migrate_data.get("connection_info") or {})),
                migrate_data)
    except Exception:  # the boundary of a cast: the claim must go all the same
        LOG.exception("Rolling back the live migration of %s here failed", instance_uuid)
    finally:
        node.tracker.release(ctxt, rt.incoming(migration_uuid))


# -- the source ----------------------------------------------------------------------------


def live_migration(node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
                   dest: str, migrate_data: dict[str, Any]) -> None:
    with node.lock(instance_uuid):
        LiveMigration(node, ctxt, instance_uuid, migration_uuid, dest, migrate_data).run()


class LiveMigration:
    """One live migration as its source runs it (called with the instance lock)."""

    def __init__(self, node: base.Node, ctxt: Any, instance_uuid: str, migration_uuid: str,
                 dest: str, migrate_data: dict[str, Any]) -> None:
        self.node = node
        self.ctxt = ctxt
        self.uuid = instance_uuid
        self.migration_uuid = migration_uuid
        self.dest = dest
        self.data = dict(migrate_data, source_connector=guest_mod.connector(node))
        self.instance: dict[str, Any] = {}
        self.bdms: list[dict[str, Any]] = []
        self.dest_node = dest
        self.pre_called = False

    def run(self) -> None:
        moved = False
        try:
            self.instance = self.node.get(self.ctxt, self.uuid)
            with self.node.action(self.ctxt, self.uuid, "compute_live_migration"):
                if self.instance.get("task_state") != states.MIGRATING:
                    raise exception.UnexpectedTaskStateError(
                        instance_uuid=self.uuid, expected=MIGRATING,
                        actual=self.instance.get("task_state"))
                migration = _migration(self.node, self.ctxt, self.migration_uuid,
                                       status="preparing")
                self.dest_node = str(migration.get("dest_node") or self.dest)
                self.bdms = _volume_bdms(self.node, self.ctxt, self.uuid)
                self.pre_called = True
                self.data = self.node.compute_rpc.pre_live_migration(
                    self.ctxt, self.dest, self.uuid, self.migration_uuid, self.data)
                _migration(self.node, self.ctxt, self.migration_uuid, status="running")
                guest = base.driver_instance(self.instance)
                self.data = self.node.driver.live_migration(self.ctxt, guest, self.dest,
                                                            self.data)
                moved = True
                self._post(guest)
        except Exception as err:  # the boundary of a cast
            if moved:
                self._failed_after_move(err)
            else:
                self._rollback(err)

    def _post(self, guest: model.Instance) -> None:
        """The guest runs on the destination: clean up here, hand over."""
        try:
            self.node.driver.post_live_migration(
                self.ctxt, guest, self.node.block_device_info(self.ctxt, self.instance),
                self.data)
        except Exception:
            LOG.exception("Cleaning up instance %s on the source failed", self.uuid)
        self.node.tracker.release(self.ctxt, self.uuid)
        self.node.update(self.ctxt, self.uuid, {
            "host": self.dest, "node": self.dest_node,
            "network_info": self.data.get("network_info")
            or self.instance.get("network_info") or []},
            expected_task_state=MIGRATING)
        self.node.compute_rpc.post_live_migration_at_destination(
            self.ctxt, self.dest, self.uuid, self.migration_uuid, self.data)

    def _rollback(self, err: Exception) -> None:
        """Nothing moved: the guest runs here; everything else goes back."""
        aborted = isinstance(err, virt_exception.LiveMigrationAborted)
        log = LOG.info if aborted else LOG.warning
        log("Live migration of %(uuid)s to %(dest)s failed: %(err)s",
            {"uuid": self.uuid, "dest": self.dest, "err": err})
        if self.pre_called:
            # The destination gives them back itself when its step fails; again
            # here for a destination that never answered (harmless otherwise).
            _give_back(self.node, self.ctxt, self.instance, self.bdms, self.node.host,
                       dict(self.data.get("source_connector") or {}))
        try:
            self.node.compute_rpc.rollback_live_migration_at_destination(
                self.ctxt, self.dest, self.uuid, self.migration_uuid, self.data)
        except Exception:
            LOG.exception("Could not ask %s to roll back", self.dest)
        _mark(self.node, self.ctxt, self.migration_uuid, "cancelled" if aborted else "error")
        if isinstance(err, exception.InstanceNotFound) or base.is_deleting(err):
            return
        if isinstance(err, exception.UnexpectedTaskStateError):
            LOG.warning("Instance %(uuid)s: %(err)s", {"uuid": self.uuid, "err": err})
            return
        guest = base.driver_instance(self.instance) if self.instance else None
        values: dict[str, Any] = {"task_state": None}
        if guest is not None:
            values["power_state"] = int(self.node.power_state(guest))
        try:
            self.node.update(self.ctxt, self.uuid, values, expected_task_state=MIGRATING)
        except (exception.InstanceNotFound, exception.UnexpectedTaskStateError) as update_err:
            LOG.info("Instance %(uuid)s: %(err)s", {"uuid": self.uuid, "err": update_err})
            return
        if not aborted:
            self.node.fault(self.ctxt, self.uuid, err)

    def _failed_after_move(self, err: Exception) -> None:
        """The guest left (it runs on the destination) but the hand-over failed."""
        if base.is_deleting(err):
            return
        LOG.error("Instance %(uuid)s moved to %(dest)s but the hand-over failed: %(err)s",
                  {"uuid": self.uuid, "dest": self.dest, "err": err})
        _mark(self.node, self.ctxt, self.migration_uuid, "error")
        self.node.set_error(self.ctxt, self.uuid, err, values={
            "host": self.dest, "node": self.dest_node})


def live_migration_abort(node: base.Node, ctxt: Any, instance_uuid: str,
                         migration_uuid: str) -> None:
    """Ask the driver to stop the migration running here (no instance lock: the
    migration holds it); the migration's own thread rolls back."""
    try:
        instance = node.get(ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, "compute_live_migration_abort"):
            node.driver.live_migration_abort(base.driver_instance(instance))
    except Exception as err:  # the boundary of a cast
        if not base.is_deleting(err):
            LOG.warning("Aborting the live migration of %(uuid)s failed: %(err)s",
                        {"uuid": instance_uuid, "err": err})


def live_migration_force_complete(node: base.Node, ctxt: Any, instance_uuid: str,
                                  migration_uuid: str) -> None:
    try:
        instance = node.get(ctxt, instance_uuid)
        with node.action(ctxt, instance_uuid, "compute_live_migration_force_complete"):
            node.driver.live_migration_force_complete(base.driver_instance(instance))
    except Exception as err:  # the boundary of a cast
        if not base.is_deleting(err):
            LOG.warning("Forcing the live migration of %(uuid)s to complete failed: "
                        "%(err)s", {"uuid": instance_uuid, "err": err})


def _mark(node: base.Node, ctxt: Any, migration_uuid: str, status: str) -> None:
    try:
        _migration(node, ctxt, migration_uuid, status=status)
    except Exception:
        LOG.exception("Could not set migration %(uuid)s %(status)s",
                      {"uuid": migration_uuid, "status": status})


def _sized(instance: dict[str, Any]) -> dict[str, Any]:
    if instance.get("memory_mb") or instance.get("vcpus"):
        return instance
    return dict(instance.get("flavor") or {})

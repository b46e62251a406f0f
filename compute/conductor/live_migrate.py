"""Live migration in the conductor: choose and check the destination, then
start the migration on the source.

The API set task_state ``migrating`` and *calls* :meth:`LiveMigrator.
live_migrate_instance` (Nova before microversion 2.34: the checks answer the
request; from 2.34 it casts, and a failed check is only recorded). It records
the migration (``live-migration``, ``accepted``, the source), finds the
destination — the host given (it must be a compute host, not the source, and
up) or the scheduler's choice, the scheduler's filters running either way with
the source left out, unless the host is forced (microversion 2.30's ``force``,
or a host named before 2.30) — and asks the destination
(``check_can_live_migrate_destination``: it claims the instance's flavor) and
the source (``check_can_live_migrate_source``). Then the migration is
``queued`` and ``live_migration`` is cast to the source
(:mod:`compute.node.live_migration` runs the rest).

A failed check ends it all here: the destination's claim is given back (a
``rollback_live_migration_at_destination`` cast), the migration is ``error``,
the instance keeps its vm_state with task_state None and gets a fault, the
action's event is finished with ``Error``, and the API gets the error (when it
waits): a 400 (MigrationPreCheckError & co.), or a 503 when a node does not
answer.
"""
from __future__ import annotations

import traceback
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import exception
from compute import migration_exception as mig_exception
from compute import states
from compute.conductor import build
from compute.conductor import migrate
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from compute.virt import exception as virt_exception

LOG = logging.getLogger(__name__)
EVENT = "conductor_live_migrate_instance"
LIVE_MIGRATION = "live-migration"
# What the API answers with as it is (every other failure becomes a pre-check error).
API_ERRORS = (exception.InstanceNotFound, exception.UnableToMigrateToSelf,
              exception.ComputeServiceUnavailable, mig_exception.DestinationHostNotFound,
              mig_exception.DestinationHostUnavailable, mig_exception.NoValidHostForMove,
              virt_exception.MigrationPreCheckError, virt_exception.LiveMigrationNotSupported)


class ComputeClient(build.ComputeClient, Protocol):
    """The ComputeNodeAPI methods the conductor's moves use."""

    def check_can_live_migrate_destination(self, ctxt: Any, host: str, instance_uuid: str,
                                           migration_uuid: str,
                                           block_migration: bool | None,
                                           limits: dict[str, Any]) -> dict[str, Any]: ...

    def check_can_live_migrate_source(self, ctxt: Any, host: str, instance_uuid: str,
                                      dest_check_data: dict[str, Any]) -> dict[str, Any]: ...

    def live_migration(self, ctxt: Any, host: str, instance_uuid: str, migration_uuid: str,
                       dest: str, migrate_data: dict[str, Any]) -> None: ...

    def rollback_live_migration_at_destination(self, ctxt: Any, host: str,
                                               instance_uuid: str, migration_uuid: str,
                                               migrate_data: dict[str, Any]) -> None: ...

    def evacuate_instance(self, ctxt: Any, host: str, instance_uuid: str,
                          migration_uuid: str, node: str | None,
                          limits: dict[str, Any] | None) -> None: ...


def move_spec(instance: Mapping[str, Any], migration_uuid: str,
              host: str | None, force: bool = False) -> dict[str, Any]:
    """The request spec of moving ``instance`` away from its host (to ``host``:
    checked by the scheduler's filters, or with ``force`` taken as it is)."""
    spec = {k: v for k, v in dict(instance.get("request_spec") or {}).items()
            if k not in migrate.BOOT_ONLY}
    spec.update({"flavor": dict(instance.get("flavor") or {}), "num_instances": 1,
                 "instance_uuid": instance["uuid"], "project_id": instance.get("project_id"),
                 "migration_uuid": migration_uuid})
    if instance.get("host"):
        spec["ignore_hosts"] = [instance["host"]]
    if host and force:
        spec["force_hosts"] = [host]
    elif host:
        spec["requested_host"] = host
    return spec


def new_migration(migrations: migrate.MigrationStore, instance: Mapping[str, Any],
                  migration_type: str, host: str | None) -> str:
    """Record an ``accepted`` move of ``instance`` away from its host; its uuid."""
    migration_uuid = str(uuid_mod.uuid4())
    flavor_id = dict(instance.get("flavor") or {}).get("flavorid")
    migrations.update(migration_uuid, {
        "instance_uuid": instance["uuid"], "migration_type": migration_type,
        "status": "accepted", "source_compute": instance.get("host"),
        "source_node": instance.get("node"), "dest_compute": host,
        "old_flavor_id": flavor_id, "new_flavor_id": flavor_id,
        "project_id": instance.get("project_id"), "user_id": instance.get("user_id")})
    return migration_uuid


def select(scheduler: build.SchedulerClient, ctxt: Any, instance: Mapping[str, Any],
           migration_uuid: str, host: str | None,
           force: bool = False) -> tuple[str, str, dict[str, Any]]:
    """(host, node, limits) the scheduler picks (it records them in the migration);
    a forced ``host`` skips its filters.

    :raises: NoValidHostForMove.
    """
    spec = move_spec(instance, migration_uuid, host, force)
    try:
        [selection] = scheduler.select_destinations(ctxt, spec, [str(instance["uuid"])])
    except build.NO_VALID_HOST as err:
        raise mig_exception.NoValidHostForMove(reason=err.kwargs.get("reason", "")) from err
    return (str(selection["host"]), str(selection["node"]),
            dict(selection.get("limits") or {}))


class LiveMigrator:
    """The live migration workflow of the conductor."""

    def __init__(self, conf: cfg.ConfigOpts, instances: instances_db.InstanceStore,
                 migrations: migrate.MigrationStore, hosts: hosts_db.HostStore,
                 scheduler: build.SchedulerClient, compute: ComputeClient) -> None:
        self.conf = conf
        self.instances = instances
        self.migrations = migrations
        self.hosts = hosts
        self.scheduler = scheduler
        self.compute = compute

    def live_migrate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                              block_migration: bool | None,
                              disk_over_commit: bool | None, force: bool = False,
                              async_: bool = False) -> None:
        """``force``: ``host`` is taken without the scheduler's filters (the
        checks of :meth:`_check_host` and of both nodes still run). ``async_``:
        the API did not wait (microversion 2.34), a failure is only recorded.

        :raises: the API_ERRORS (see the module docstring), unless ``async_``.
        """
        instance = self.instances.get(instance_uuid)
        if instance.get("task_state") != states.MIGRATING:
            # The API gave up on this call (it timed out) and put the task state back.
            LOG.info("Instance %(uuid)s is %(task)s, not migrating; no live migration",
                     {"uuid": instance_uuid, "task": instance.get("task_state")})
            return
        req_id = build.request_id(ctxt)
        self.instances.action_event_start(instance_uuid, req_id, EVENT)
        migration_uuid = new_migration(self.migrations, instance, LIVE_MIGRATION, host)
        dest: str | None = None
        claimed = False
        try:
            self._check_host(instance, host)
            dest, node, limits = select(self.scheduler, ctxt, instance, migration_uuid, host,
                                        force)
            dest_data = self._node_call(dest, lambda: self.compute.
                                        check_can_live_migrate_destination(
                                            ctxt, dest or "", instance_uuid, migration_uuid,
                                            block_migration, limits))
            claimed = True
            source = str(instance["host"])
            data = self._node_call(source, lambda: self.compute.check_can_live_migrate_source(
                ctxt, source, instance_uuid, dest_data))
            self.migrations.update(migration_uuid, {"status": "queued", "dest_compute": dest,
                                                    "dest_node": node})
            self._node_call(source, lambda: self.compute.live_migration(
                ctxt, source, instance_uuid, migration_uuid, dest or "", data))
        except Exception as err:
            if claimed and dest:
                self._release(ctxt, dest, instance_uuid, migration_uuid)
            failure = self._failed(instance, migration_uuid, err, req_id)
            if async_:
                return
            raise failure from err
        LOG.info("Live migration %(mig)s of %(uuid)s from %(src)s to %(dest)s queued",
                 {"mig": migration_uuid, "uuid": instance_uuid, "src": instance["host"],
                  "dest": dest})
        self.instances.action_event_finish(instance_uuid, req_id, EVENT, "Success")

    def _check_host(self, instance: Mapping[str, Any], host: str | None) -> None:
        if not host:
            return
        found = self.hosts.service_list(binary=hosts_db.COMPUTE_BINARY, host=host)
        if not found:
            raise mig_exception.DestinationHostNotFound(host=host)
        if host == instance.get("host"):
            raise exception.UnableToMigrateToSelf(instance_id=instance["uuid"], host=host)
        if not hosts_db.is_up(found[0], self.conf.service_down_time):
            raise mig_exception.DestinationHostUnavailable(host=host)

    @staticmethod
    def _node_call(host: str, call: Any) -> Any:
        try:
            return call()
        except rpc.UNAVAILABLE as err:
            raise exception.ComputeServiceUnavailable(host=host) from err

    def _release(self, ctxt: Any, dest: str, instance_uuid: str, migration_uuid: str) -> None:
        try:
            self.compute.rollback_live_migration_at_destination(ctxt, dest, instance_uuid,
                                                                migration_uuid, {})
        except Exception:
            LOG.exception("Could not ask %s to release its claim", dest)

    def _failed(self, instance: Mapping[str, Any], migration_uuid: str, err: Exception,
                req_id: str) -> Exception:
        """Record the failure; the error to raise to the API."""
        uuid = str(instance["uuid"])
        if not isinstance(err, API_ERRORS):
            LOG.warning("Live migration of %(uuid)s failed its checks: %(err)s",
                        {"uuid": uuid, "err": build.error_message(err)},
                        exc_info=not isinstance(err, common_exception.Error))
            err = virt_exception.MigrationPreCheckError(reason=build.error_message(err))
        message = build.error_message(err)
        LOG.info("Live migration of %(uuid)s refused: %(msg)s", {"uuid": uuid, "msg": message})
        self.migrations.update(migration_uuid, {"status": "error"})
        try:
            self.instances.update(uuid, {"task_state": None},
                                  expected_task_state=[states.MIGRATING])
        except build.GONE as gone:
            LOG.info("Instance %(uuid)s moved on: %(err)s",
                     {"uuid": uuid, "err": build.error_message(gone)})
            return err
        code = getattr(err, "code", 500)
        details = "".join(traceback.format_exception(err)) if code >= 500 else None
        self.instances.add_fault(uuid, code, message, details)
        self.instances.action_event_finish(uuid, req_id, EVENT, "Error", details or message)
        return err

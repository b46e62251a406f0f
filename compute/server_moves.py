"""Live migration and evacuation (``os-migrateLive``, ``evacuate``) and a
server's in-progress live migrations (``/servers/{id}/migrations``): the rules.

Live migration (admins): an ACTIVE or PAUSED server on a host, not locked, no
task; a host named must be a compute host (else 400). The task state becomes
``migrating``, the action ``live-migration`` is recorded, and the conductor is
*called*: as in Nova before microversion 2.34, its checks (destination up,
not the source, room for the server, the drivers' checks) answer the request
with a 400 (it put the task state back and recorded a fault), else the
migration is queued and the request answers 202. From 2.34 the conductor is
cast to and its checks' failures are only recorded (a fault, the migration
``error``).

A host named for either move is *forced* as Nova forces it: taken without the
scheduler's filters, before the microversion that added ``force`` (2.29 for
evacuate, 2.30 for live migration: ``force`` None here) or with ``force``
true; with ``force`` false the scheduler checks it.

Evacuation (admins): an ACTIVE, STOPPED or ERROR server with no task whose
host's compute service is down or forced down (else 400, "Compute service of
<host> is still in use."); a host named must be a compute host (404) other than
the server's (400). Task state ``rebuilding``, action ``evacuate``, a cast to
the conductor.

Aborting (2.24) and forcing the completion (2.22) of a live migration need
the server ``migrating`` (409) and the migration ``running`` (400); both are
casts to the source node.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import migration_exception as mig_exception
from compute import migration_list
from compute import servers as servers_service
from compute import states
from compute.db import hosts as hosts_db

LOG = logging.getLogger(__name__)

LIVE_MIGRATE_STATES = (states.ACTIVE, states.PAUSED)
EVACUATE_STATES = (states.ACTIVE, states.STOPPED, states.ERROR)
LIVE_MIGRATION = "live-migration"


def _forced(host: str | None, force: bool | None) -> bool:
    """Whether a move goes to ``host`` without the scheduler's filters (see above)."""
    return bool(host) and force is not False


class ServerMoves:
    def __init__(self, servers: servers_service.ServerService) -> None:
        self.servers = servers
        self.store = servers.store
        self.migrations = migration_list.MigrationList(servers.db)

    # -- helpers
    def _compute_service(self, host: str) -> dict[str, Any] | None:
        found = self.servers.hosts.service_list(binary=hosts_db.COMPUTE_BINARY, host=host)
        return found[0] if found else None

    def _start(self, ctxt: Any, instance: Mapping[str, Any], action: str,
               vm_states: tuple[str, ...], task_state: str) -> None:
        self.servers.set_states(instance, {"task_state": task_state}, vm_states)
        self.servers.record_action(ctxt, instance["uuid"], action)

    def _to_conductor(self, instance: Mapping[str, Any], task_state: str,
                      send: Callable[[], None]) -> None:
        """``send()``; when the conductor does not take it, the task state goes back
        (compare-and-set: the conductor may have answered meanwhile) and 503."""
        try:
            send()
        except rpc.UNAVAILABLE as err:
            LOG.warning("The conductor did not take the move of %(uuid)s: %(err)s",
                        {"uuid": instance["uuid"], "err": err})
            try:
                self.store.update(instance["uuid"], {"task_state": None},
                                  expected_task_state=[task_state])
            except common_exception.Error:
                LOG.warning("Task state of %s not reverted", instance["uuid"])
            raise common_exception.ServiceUnavailable(
                reason="the compute conductor did not take the request") from err

    # -- live migration
    def live_migrate(self, ctxt: Any, instance: Mapping[str, Any], host: str | None,
                     block_migration: bool | None, disk_over_commit: bool | None,
                     force: bool | None = None, async_: bool = False) -> None:
        """:raises: InstanceIsLocked, InstanceInvalidState, InstanceNotReady (409);
            DestinationHostNotFound and (unless ``async_``) the conductor's
            checks (400); ServiceUnavailable (503)."""
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "os-migrateLive", LIVE_MIGRATE_STATES)
        servers_service.host_of(instance)
        if host and self._compute_service(host) is None:
            raise mig_exception.DestinationHostNotFound(host=host)
        self._start(ctxt, instance, LIVE_MIGRATION, LIVE_MIGRATE_STATES, states.MIGRATING)
        uuid = instance["uuid"]
        forced = _forced(host, force)
        self._to_conductor(instance, states.MIGRATING,
                           lambda: self.servers.conductor().live_migrate_instance(
                               ctxt, uuid, host, block_migration, disk_over_commit,
                               force=forced, async_=async_))

    # -- evacuation
    def evacuate(self, ctxt: Any, instance: Mapping[str, Any], host: str | None,
                 force: bool | None = None) -> None:
        """:raises: NotFound (an unknown ``host``), Invalid (``host`` is the
            server's own; ComputeServiceInUse), InstanceInvalidState,
            InstanceNotReady (409), ServiceUnavailable (503)."""
        if host is not None and self._compute_service(host) is None:
            raise common_exception.NotFound("Compute host %s not found." % host)
        if instance["host"] == host:
            raise common_exception.Invalid("The target host can't be the same one.")
        self.servers.check_state(instance, "evacuate", EVACUATE_STATES)
        source = servers_service.host_of(instance)
        service = self._compute_service(str(source))
        if service is not None and hosts_db.is_up(service, self.servers.conf.service_down_time):
            raise mig_exception.ComputeServiceInUse(host=source)
        self._start(ctxt, instance, "evacuate", EVACUATE_STATES, states.REBUILDING)
        uuid = instance["uuid"]
        forced = _forced(host, force)
        self._to_conductor(instance, states.REBUILDING,
                           lambda: self.servers.conductor().evacuate_instance(
                               ctxt, instance_uuid=uuid, host=host, force=forced))

    # -- in-progress live migrations
    def in_progress(self, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The server's live migrations under way, newest first."""
        found = self.migrations.get_all({"instance_uuid": instance["uuid"],
                                         "migration_type": LIVE_MIGRATION})
        return [m for m in found if m["status"] in migration_list.LIVE_IN_PROGRESS]

    def get_in_progress(self, instance: Mapping[str, Any], migration_id: str) -> dict[str, Any]:
        """:raises: LiveMigrationNotInProgress (404)."""
        for migration in self.in_progress(instance):
            if str(migration["id"]) == migration_id:
                return migration
        raise mig_exception.LiveMigrationNotInProgress(id=migration_id, uuid=instance["uuid"])

    def _running(self, instance: Mapping[str, Any], migration_id: str,
                 method: str) -> dict[str, Any]:
        self.servers.check_state(instance, method, None, (states.MIGRATING,))
        found = [m for m in self.migrations.get_all({"instance_uuid": instance["uuid"]})
                 if str(m["id"]) == migration_id]
        if not found or found[0]["migration_type"] != LIVE_MIGRATION:
            raise mig_exception.MigrationNotFoundForInstance(migration_id=migration_id,
                                                             instance_id=instance["uuid"])
        migration = found[0]
        if migration["status"] != "running":
            raise mig_exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance["uuid"],
                state=migration["status"], method=method)
        return migration

    def abort(self, ctxt: Any, instance: Mapping[str, Any], migration_id: str) -> None:
        """DELETE /servers/{id}/migrations/{migration_id} (2.24).

        :raises: InstanceInvalidState (409), MigrationNotFoundForInstance (404),
            InvalidMigrationState (400), ComputeServiceUnavailable (503).
        """
        self._to_source(ctxt, instance, migration_id, "abort live migration",
                        "live_migration_cancel", "live_migration_abort")

    def force_complete(self, ctxt: Any, instance: Mapping[str, Any],
                       migration_id: str) -> None:
        """POST /servers/{id}/migrations/{migration_id}/action force_complete (2.22).

        :raises: as :meth:`abort`.
        """
        self._to_source(ctxt, instance, migration_id, "force complete",
                        "live_migration_force_complete", "live_migration_force_complete")

    def _to_source(self, ctxt: Any, instance: Mapping[str, Any], migration_id: str,
                   method: str, action: str, rpc_method: str) -> None:
        migration = self._running(instance, migration_id, method)
        host = str(migration["source_compute"] or instance["host"])
        self.servers.record_action(ctxt, instance["uuid"], action)
        node = self.servers.node()
        self.servers.cast_to_node(host, lambda: getattr(node, rpc_method)(
            ctxt, host, instance["uuid"], migration["uuid"]))

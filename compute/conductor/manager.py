"""The RPC endpoint of ``stratus-compute-conductor`` (topic ``compute-conductor``).

A thin façade over the workflows (:mod:`compute.conductor.build`,
:mod:`compute.conductor.migrate`, :mod:`.shelve`, :mod:`.live_migrate`,
:mod:`.evacuate`) and over the compute database, which the
nodes reach only through these methods (they hold no database credentials).
Every method of :class:`compute.rpcapi.ConductorAPI` is served here with the
same arguments; errors a caller must see with their type (InstanceNotFound,
UnexpectedTaskStateError …) are declared expected, so oslo.messaging sends
them back as such and does not log them as crashes.
"""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from common import rpc
from common import rpc_service
from common.db import engine
from common.db import models as base_models
from compute import exception
from compute.conductor import build
from compute.conductor import evacuate
from compute.conductor import live_migrate
from compute.conductor import migrate
from compute.conductor import shelve
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from compute.db import models

LOG = logging.getLogger(__name__)
BINARY = "stratus-compute-conductor"
_BDM_COLUMNS = frozenset(c.name for c in models.BlockDeviceMapping.__table__.columns)
_BDM_READ_ONLY = frozenset(("id", "uuid", "instance_uuid", "created_at"))
_INSTANCE_ERRORS = (exception.InstanceNotFound, exception.UnexpectedTaskStateError,
                    exception.UnexpectedVMStateError)


def bdm_dict(row: models.BlockDeviceMapping) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _BDM_COLUMNS:
        value = getattr(row, name)
        data[name] = (instances_db.isotime(value) if name in ("created_at", "updated_at")
                      else value)
    return data


def _build_check_interval(conf: cfg.ConfigOpts) -> float:
    return float(conf.conductor.build_check_interval)


class ConductorManager:
    """Serves the conductor's RPC API (version 1.4)."""

    RPC_API_VERSION = "1.5"
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 scheduler: build.SchedulerClient | None = None,
                 compute: live_migrate.ComputeClient | None = None) -> None:
        self.conf = conf
        self.db = db
        self.instances = instances_db.InstanceStore(db)
        self.hosts = hosts_db.HostStore(db)
        self.migrations = migrate.MigrationStore(db)
        if scheduler is None or compute is None:
            # Real clients need common.rpc.init() first (done by the daemon's main).
            from compute import rpcapi
            scheduler = scheduler or rpcapi.SchedulerAPI()
            compute = compute or rpcapi.ComputeNodeAPI()
        self.builder = build.Builder(conf, self.instances, self.hosts, scheduler, compute)
        self.migrator = migrate.Migrator(conf, self.instances, self.migrations, scheduler,
                                         compute)
        self.unshelver = shelve.Unshelver(self.instances, scheduler, compute)
        self.live_migrator = live_migrate.LiveMigrator(conf, self.instances, self.migrations,
                                                       self.hosts, scheduler, compute)
        self.evacuator = evacuate.Evacuator(self.instances, self.migrations, scheduler,
                                            compute)

    # -- workflows (for the API and, for reschedule, the nodes)
    def build_instances(self, ctxt: Any, instance_uuids: list[str],
                        request_spec: dict[str, Any]) -> None:
        self.builder.build_instances(ctxt, instance_uuids, request_spec)

    def reschedule(self, ctxt: Any, instance_uuid: str, failed_host: str,
                   reason: str) -> None:
        self.builder.reschedule(ctxt, instance_uuid, failed_host, reason)

    def migrate_server(self, ctxt: Any, instance_uuid: str, flavor: dict[str, Any] | None,
                       host: str | None = None) -> None:
        self.migrator.migrate_server(ctxt, instance_uuid, flavor, host)

    def unshelve_instance(self, ctxt: Any, instance_uuid: str) -> None:
        self.unshelver.unshelve_instance(ctxt, instance_uuid)

    @rpc.expected(*live_migrate.API_ERRORS)
    def live_migrate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                              block_migration: bool | None,
                              disk_over_commit: bool | None, force: bool = False,
                              async_: bool = False) -> None:
        self.live_migrator.live_migrate_instance(ctxt, instance_uuid, host, block_migration,
                                                 disk_over_commit, force, async_)

    def evacuate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                          force: bool = False) -> None:
        self.evacuator.evacuate_instance(ctxt, instance_uuid, host, force)

    # -- instances, for the nodes
    @rpc.expected(exception.InstanceNotFound)
    def instance_get(self, ctxt: Any, instance_uuid: str,
                     read_deleted: bool = False) -> dict[str, Any]:
        return self.instances.get(instance_uuid, read_deleted=read_deleted)

    @rpc.expected(*_INSTANCE_ERRORS)
    def instance_update(self, ctxt: Any, instance_uuid: str, values: dict[str, Any],
                        expected_task_state: Any = "__any__",
                        expected_vm_state: list[str] | None = None,
                        action_event: dict[str, Any] | None = None,
                        node_resources: dict[str, Any] | None = None) -> dict[str, Any]:
        if node_resources is not None:  # recorded whatever the update does
            self.hosts.compute_node_update(str(node_resources["host"]),
                                           node_resources["resources"])
        expected = (instances_db.ANY if expected_task_state == "__any__"
                    else expected_task_state)
        return self.instances.update(instance_uuid, values, expected_task_state=expected,
                                     expected_vm_state=expected_vm_state,
                                     action_event=action_event)

    def instance_get_all_by_host(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        return self.instances.get_all(host=host, sort=(("created_at", "asc"),))

    @rpc.expected(exception.InstanceNotFound)
    def instance_destroy(self, ctxt: Any, instance_uuid: str) -> dict[str, Any]:
        return self.instances.destroy(instance_uuid)

    def instance_fault_create(self, ctxt: Any, instance_uuid: str, code: int, message: str,
                              details: str | None, host: str | None) -> None:
        self.instances.add_fault(instance_uuid, code, message, details, host)

    def action_event_start(self, ctxt: Any, instance_uuid: str, request_id: str,
                           event: str, host: str | None) -> None:
        self.instances.action_event_start(instance_uuid, request_id, event, host)

    def action_event_finish(self, ctxt: Any, instance_uuid: str, request_id: str,
                            event: str, result: str, traceback: str | None,
                            host: str | None) -> None:
        self.instances.action_event_finish(instance_uuid, request_id, event, result,
                                           traceback, host)

    # -- hosts, for the nodes
    def service_report(self, ctxt: Any, binary: str, host: str,
                       topic: str) -> dict[str, Any]:
        return self.hosts.service_report(binary, host, topic)

    def compute_node_update(self, ctxt: Any, host: str,
                            resources: dict[str, Any]) -> dict[str, Any]:
        return self.hosts.compute_node_update(host, resources)

    # -- block devices and migrations, for the nodes
    def bdm_get_by_instance(self, ctxt: Any, instance_uuid: str) -> list[dict[str, Any]]:
        bdm = models.BlockDeviceMapping
        query = (sa.select(bdm).where(bdm.instance_uuid == instance_uuid)
                 .order_by(sa.func.coalesce(bdm.boot_index, 1 << 30), bdm.id))
        with self.db.reader() as session:
            return [bdm_dict(r) for r in session.scalars(query)]

    @rpc.expected(exception.BDMNotFound)
    def bdm_update(self, ctxt: Any, bdm_uuid: str,
                   values: dict[str, Any]) -> dict[str, Any]:
        bad = set(values) - (_BDM_COLUMNS - _BDM_READ_ONLY)
        if bad:
            raise ValueError("cannot set block device mapping columns: %s"
                             % ", ".join(sorted(bad)))
        bdm = models.BlockDeviceMapping
        with self.db.writer() as session:
            row = session.scalars(sa.select(bdm).where(bdm.uuid == bdm_uuid)).first()
            if row is None:
                raise exception.BDMNotFound(id=bdm_uuid)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = base_models.utcnow()
            session.flush()
            return bdm_dict(row)

    @rpc.expected(exception.BDMNotFound)
    def bdm_destroy(self, ctxt: Any, bdm_uuid: str) -> None:
        """Delete a volume's mapping once its attachment is gone (a detach)."""
        bdm = models.BlockDeviceMapping
        with self.db.writer() as session:
            row = session.scalars(sa.select(bdm).where(bdm.uuid == bdm_uuid)).first()
            if row is None:
                raise exception.BDMNotFound(id=bdm_uuid)
            session.delete(row)

    @rpc.expected(exception.MigrationNotFound)
    def migration_update(self, ctxt: Any, migration_uuid: str,
                         values: dict[str, Any]) -> dict[str, Any]:
        return self.migrations.update(migration_uuid, values)

    def migration_get_all_by_source(self, ctxt: Any, host: str, migration_type: str,
                                    statuses: list[str]) -> list[dict[str, Any]]:
        return self.migrations.get_all_by_source(host, migration_type, statuses)

    # -- periodic
    @rpc_service.periodic_task(spacing=_build_check_interval)
    def _fail_stuck_builds(self, ctxt: Any) -> None:
        failed = self.builder.fail_stuck_builds()
        if failed:
            LOG.warning("Put %(n)d stuck builds in ERROR: %(uuids)s",
                        {"n": len(failed), "uuids": failed})


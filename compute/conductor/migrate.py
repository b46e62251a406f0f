"""Resize and cold migration: schedule a destination, then ``prep_resize`` there.

Intent first: before asking the scheduler, :meth:`Migrator.migrate_server`
writes the migration row (status ``pre-migrating``, the source, no destination
yet) and the instance's ``old_flavor``/``new_flavor``. The scheduler records
the destination it picks in that row under its lock, and from then on counts
the new flavor on the destination, so a move never overbooks a host either.

No host: the migration goes to ``error``, the instance keeps its vm_state with
task_state None and gets a fault, and the action's event is finished with
``Error`` (as Nova does for a resize). Otherwise the node flow takes over:
``prep_resize`` on the destination, ``resize_instance`` on the source,
``finish_resize`` on the destination (compute/rpcapi.py); the nodes move the
migration row on with ``migration_update``.
"""
from __future__ import annotations

import traceback
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from common.db import engine
from common.db import models as base_models
from compute import exception
from compute import states
from compute.conductor import build
from compute.db import instances as instances_db
from compute.db import models

LOG = logging.getLogger(__name__)
EVENT = "conductor_migrate_server"
PRE_MIGRATING = "pre-migrating"
_COLUMNS = frozenset(c.name for c in models.Migration.__table__.columns)
_READ_ONLY = frozenset(("id", "uuid", "created_at"))
_TIMES = ("created_at", "updated_at")
# Keys of a boot's request spec that must not steer a move.
_BOOT_ONLY = ("retry", "force_hosts", "force_nodes", "ignore_hosts", "num_instances",
              "requested_host", "requested_node", "migration_uuid")
BOOT_ONLY = _BOOT_ONLY


def migration_dict(row: models.Migration) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _COLUMNS:
        value = getattr(row, name)
        data[name] = instances_db.isotime(value) if name in _TIMES else value
    return data


class MigrationStore:
    """Migration rows: create on first write, update afterwards."""

    def __init__(self, db: engine.Database) -> None:
        self.db = db

    def get(self, migration_uuid: str) -> dict[str, Any]:
        """:raises: MigrationNotFound."""
        with self.db.reader() as session:
            row = session.scalars(sa.select(models.Migration).where(
                models.Migration.uuid == migration_uuid)).first()
            if row is None:
                raise exception.MigrationNotFound(migration_id=migration_uuid)
            return migration_dict(row)

    def get_all_by_source(self, host: str, migration_type: str,
                          statuses: list[str]) -> list[dict[str, Any]]:
        """The migrations of ``migration_type`` away from ``host`` in ``statuses``,
        oldest first."""
        mig = models.Migration
        with self.db.reader() as session:
            rows = session.scalars(sa.select(mig).where(
                mig.source_compute == host, mig.migration_type == migration_type,
                mig.status.in_(list(statuses))).order_by(mig.id))
            return [migration_dict(r) for r in rows]

    def update(self, migration_uuid: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set columns of the migration, creating it when ``migration_uuid`` is new
        (then ``values`` carry instance_uuid, migration_type, status, source/dest).

        :raises: ValueError on unknown columns or a new row without its instance.
        """
        bad = set(values) - (_COLUMNS - _READ_ONLY)
        if bad:
            raise ValueError("cannot set migration columns: %s" % ", ".join(sorted(bad)))
        with self.db.writer() as session:
            row = session.scalars(sa.select(models.Migration).where(
                models.Migration.uuid == migration_uuid)).first()
            if row is None:
                if not values.get("instance_uuid"):
                    raise ValueError("a new migration needs its instance_uuid")
                row = models.Migration(uuid=migration_uuid,
                                       migration_type=values.get("migration_type")
                                       or "migration",
                                       status=values.get("status") or PRE_MIGRATING)
                session.add(row)
            for key, value in values.items():
                if key in _TIMES:
                    value = instances_db.parse_isotime(value)
                setattr(row, key, value)
            row.updated_at = base_models.utcnow()
            session.flush()
            return migration_dict(row)


def _flavor_id(flavor: Mapping[str, Any]) -> str | None:
    value = flavor.get("flavorid", flavor.get("id"))
    return str(value) if value is not None else None


class Migrator:
    """The resize / cold-migration workflow of the conductor."""

    def __init__(self, conf: cfg.ConfigOpts, instances: instances_db.InstanceStore,
                 migrations: MigrationStore, scheduler: build.SchedulerClient,
                 compute: build.ComputeClient) -> None:
        self.conf = conf
        self.instances = instances
        self.migrations = migrations
        self.scheduler = scheduler
        self.compute = compute

    def migrate_server(self, ctxt: Any, instance_uuid: str,
                       flavor: Mapping[str, Any] | None, host: str | None = None) -> None:
        req_id = build.request_id(ctxt)
        try:
            instance = self.instances.get(instance_uuid)
        except exception.InstanceNotFound:
            LOG.info("Instance %(uuid)s deleted; no migration", {"uuid": instance_uuid})
            return
        resize = flavor is not None
        current = dict(instance.get("flavor") or {})
        new = dict(flavor) if flavor is not None else current
        self.instances.action_event_start(instance_uuid, req_id, EVENT)
        migration_uuid = str(uuid_mod.uuid4())
        migration = self.migrations.update(migration_uuid, {
            "instance_uuid": instance_uuid, "migration_type": "resize" if resize
            else "migration", "status": PRE_MIGRATING,
            "source_compute": instance.get("host"), "source_node": instance.get("node"),
            "old_flavor_id": _flavor_id(current), "new_flavor_id": _flavor_id(new),
            "project_id": instance.get("project_id"), "user_id": instance.get("user_id")})
        try:
            self.instances.update(instance_uuid, {"old_flavor": current, "new_flavor": new,
                                                  "task_state": states.RESIZE_PREP},
                                  expected_task_state=[states.RESIZE_PREP, None])
        except build.GONE as err:
            LOG.info("Instance %(uuid)s not migrated: %(err)s",
                     {"uuid": instance_uuid, "err": build.error_message(err)})
            self.migrations.update(migration_uuid, {"status": "error"})
            return
        spec = self._spec(instance, new, resize, host, migration_uuid)
        try:
            [selection] = self.scheduler.select_destinations(ctxt, spec, [instance_uuid])
        except build.NO_VALID_HOST as err:
            self._no_host(instance, migration_uuid, build.error_message(err),
                          traceback.format_exc(), req_id)
            return
        except Exception as err:  # scheduler unreachable or broken
            LOG.exception("Scheduling the move of %(uuid)s failed", {"uuid": instance_uuid})
            self._no_host(instance, migration_uuid, "Migration of instance failed while "
                          "scheduling: %s" % build.error_message(err),
                          traceback.format_exc(), req_id)
            return
        dest, node = str(selection["host"]), str(selection["node"])
        self.migrations.update(migration_uuid, {"dest_compute": dest, "dest_node": node})
        LOG.info("%(kind)s of %(uuid)s from %(src)s to %(dest)s (migration %(mig)s)",
                 {"kind": migration["migration_type"], "uuid": instance_uuid,
                  "src": instance.get("host"), "dest": dest, "mig": migration_uuid})
        try:
            self.compute.prep_resize(ctxt, dest, instance_uuid, new, migration_uuid, node,
                                     dict(selection.get("limits") or {}))
        except Exception as err:  # the bus refused the cast
            LOG.exception("Casting prep_resize of %(uuid)s failed", {"uuid": instance_uuid})
            self._no_host(instance, migration_uuid, "Migration of instance failed: %s"
                          % build.error_message(err), traceback.format_exc(), req_id)
            return
        self.instances.action_event_finish(instance_uuid, req_id, EVENT, "Success")

    def _spec(self, instance: Mapping[str, Any], flavor: Mapping[str, Any], resize: bool,
              host: str | None, migration_uuid: str) -> dict[str, Any]:
        spec = {k: v for k, v in dict(instance.get("request_spec") or {}).items()
                if k not in _BOOT_ONLY}
        spec.update({"flavor": dict(flavor), "num_instances": 1,
                     "instance_uuid": instance["uuid"],
                     "project_id": instance.get("project_id"),
                     "migration_uuid": migration_uuid})
        same_host_ok = resize and bool(self.conf.compute.allow_resize_to_same_host)
        if instance.get("host") and not same_host_ok:
            spec["ignore_hosts"] = [instance["host"]]
        if host:
            spec["requested_host"] = host
        return spec

    def _no_host(self, instance: Mapping[str, Any], migration_uuid: str, message: str,
                 details: str | None, req_id: str) -> None:
        self.migrations.update(migration_uuid, {"status": "error"})
        build.fail_instance(self.instances, instance["uuid"], message, details, req_id,
                            event=EVENT,
                            values={"task_state": None, "new_flavor": None,
                                    "old_flavor": None},
                            expected_task_state=[states.RESIZE_PREP], expected_vm_state=None)

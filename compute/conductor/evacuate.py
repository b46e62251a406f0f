"""Evacuation in the conductor: record it, schedule a destination, cast.

The API checked that the instance's host is down (or forced down) and set
task_state ``rebuilding``; the evacuation is recorded (migration type
``evacuation``, ``accepted``, from the failed host), the destination chosen
(the host given or the scheduler's choice; the scheduler's filters run either
way, the failed host left out, unless the host is forced: microversion 2.29's
``force``, or a host named before 2.29) and ``evacuate_instance`` cast to it
(:mod:`compute.node.evacuate`). No host: the migration is ``error`` and the
instance ERROR with a fault, as Nova's conductor leaves it.
"""
from __future__ import annotations

import traceback
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.conductor import build
from compute.conductor import live_migrate
from compute.conductor import migrate
from compute.db import instances as instances_db

LOG = logging.getLogger(__name__)
EVENT = "conductor_rebuild_server"
EVACUATION = "evacuation"


class Evacuator:
    """The evacuation workflow of the conductor."""

    def __init__(self, instances: instances_db.InstanceStore,
                 migrations: migrate.MigrationStore, scheduler: build.SchedulerClient,
                 compute: live_migrate.ComputeClient) -> None:
        self.instances = instances
        self.migrations = migrations
        self.scheduler = scheduler
        self.compute = compute

    def evacuate_instance(self, ctxt: Any, instance_uuid: str, host: str | None,
                          force: bool = False) -> None:
        req_id = build.request_id(ctxt)
        try:
            instance = self.instances.get(instance_uuid)
        except exception.InstanceNotFound:
            LOG.info("Instance %(uuid)s deleted; no evacuation", {"uuid": instance_uuid})
            return
        if instance.get("task_state") != states.REBUILDING:
            LOG.info("Instance %(uuid)s is %(task)s, not rebuilding; no evacuation",
                     {"uuid": instance_uuid, "task": instance.get("task_state")})
            return
        self.instances.action_event_start(instance_uuid, req_id, EVENT)
        migration_uuid = live_migrate.new_migration(self.migrations, instance, EVACUATION,
                                                    host)
        try:
            dest, node, limits = live_migrate.select(self.scheduler, ctxt, instance,
                                                     migration_uuid, host, force)
            self.compute.evacuate_instance(ctxt, dest, instance_uuid, migration_uuid, node,
                                           limits)
        except Exception as err:  # no host, or the bus refused the cast
            LOG.warning("Evacuation of %(uuid)s failed: %(err)s",
                        {"uuid": instance_uuid, "err": build.error_message(err)})
            self.migrations.update(migration_uuid, {"status": "error"})
            build.fail_instance(self.instances, instance_uuid, build.error_message(err),
                                traceback.format_exc(), req_id, event=EVENT,
                                expected_task_state=[states.REBUILDING],
                                expected_vm_state=None)
            return
        LOG.info("Evacuating %(uuid)s from %(src)s to %(dest)s (migration %(mig)s)",
                 {"uuid": instance_uuid, "src": instance.get("host"), "dest": dest,
                  "mig": migration_uuid})
        self.instances.action_event_finish(instance_uuid, req_id, EVENT, "Success")

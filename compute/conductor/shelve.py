"""Unshelving a shelved_offloaded instance: schedule it again, then hand it to
the chosen node.

The API set task_state ``unshelving``. The request spec is the instance's
own (what it was booted with, boot-only keys dropped) with the shelved image
(``system_metadata["shelved_image_id"]``) as its image, so the image filters
judge what will be spawned. The scheduler records the host; the node's
``unshelve_instance`` spawns the guest there. With no valid host (or a
scheduler that does not answer) the instance stays shelved_offloaded, on no
host, with a fault, and the ``conductor_unshelve_instance`` event ends in Error.
"""
from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import states
from compute.conductor import build
from compute.db import instances as instances_db

LOG = logging.getLogger(__name__)
EVENT = "conductor_unshelve_instance"
# Keys of a boot request that do not apply to scheduling it again.
_BOOT_ONLY = ("retry", "force_hosts", "force_nodes", "ignore_hosts", "num_instances",
              "requested_host", "requested_node", "migration_uuid")


def request_spec(instance: Mapping[str, Any]) -> dict[str, Any]:
    """The spec to schedule an offloaded instance again with."""
    spec = {k: v for k, v in dict(instance.get("request_spec") or {}).items()
            if k not in _BOOT_ONLY}
    sysmeta: Mapping[str, Any] = instance.get("system_metadata") or {}
    image = dict(spec.get("image") or {})
    shelved = sysmeta.get("shelved_image_id")
    if shelved:
        image["id"] = str(shelved)
    if image:
        spec["image"] = image
    spec.update({"flavor": dict(instance.get("flavor") or spec.get("flavor") or {}),
                 "num_instances": 1, "instance_uuid": instance["uuid"],
                 "project_id": instance.get("project_id")})
    return spec


class Unshelver:
    def __init__(self, instances: instances_db.InstanceStore,
                 scheduler: build.SchedulerClient, compute: build.ComputeClient) -> None:
        self.instances = instances
        self.scheduler = scheduler
        self.compute = compute

    def unshelve_instance(self, ctxt: Any, instance_uuid: str) -> None:
        req_id = build.request_id(ctxt)
        try:
            instance = self.instances.get(instance_uuid)
        except exception.InstanceNotFound:
            LOG.info("Instance %(uuid)s deleted; no unshelve", {"uuid": instance_uuid})
            return
        self.instances.action_event_start(instance_uuid, req_id, EVENT)
        try:
            [selection] = self.scheduler.select_destinations(ctxt, request_spec(instance),
                                                             [instance_uuid])
        except build.NO_VALID_HOST as err:
            self._fail(instance_uuid, build.error_message(err), traceback.format_exc(),
                       req_id)
            return
        except Exception as err:  # scheduler unreachable or broken
            LOG.exception("Scheduling the unshelve of %(uuid)s failed",
                          {"uuid": instance_uuid})
            self._fail(instance_uuid, "Unshelve of instance failed while scheduling: %s"
                       % build.error_message(err), traceback.format_exc(), req_id)
            return
        host, node = str(selection["host"]), str(selection["node"])
        try:
            self.compute.unshelve_instance(ctxt, host, instance_uuid, node,
                                           dict(selection.get("limits") or {}))
        except Exception as err:  # the bus refused the cast
            LOG.exception("Casting unshelve of %(uuid)s to %(host)s failed",
                          {"uuid": instance_uuid, "host": host})
            self._fail(instance_uuid, "Unshelve of instance failed: %s"
                       % build.error_message(err), traceback.format_exc(), req_id)
            return
        LOG.info("Unshelving %(uuid)s on %(host)s", {"uuid": instance_uuid, "host": host})
        self.instances.action_event_finish(instance_uuid, req_id, EVENT, "Success")

    def _fail(self, instance_uuid: str, message: str, details: str | None,
              req_id: str) -> None:
        build.fail_instance(self.instances, instance_uuid, message, details, req_id,
                            event=EVENT,
                            values={"vm_state": states.SHELVED_OFFLOADED, "task_state": None,
                                    "host": None, "node": None},
                            expected_task_state=[states.UNSHELVING],
                            expected_vm_state=[states.SHELVED_OFFLOADED])

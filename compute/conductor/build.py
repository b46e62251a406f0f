"""Build orchestration: schedule a boot request, hand each instance to its node,
reschedule a failed build to an alternate host, fail builds that nobody runs.

The flow of one boot (api -> conductor -> scheduler -> node):

1. the API writes the instances (vm_state building, task_state scheduling) and
   casts ``build_instances``;
2. :meth:`Builder.build_instances` asks the scheduler, which records each
   instance's host/node before it answers;
3. each instance keeps the hosts tried and its alternates in
   ``request_spec["retry"]`` (``{"num_attempts", "max_attempts", "hosts": [[host,
   node], ...], "alternates": [{"host", "node", "limits"}, ...]}``) and is cast to
   its node (``build_and_run_instance``, with that request spec);
4. a node whose build fails casts ``reschedule``: the instance moves to its next
   alternate until ``[filter_scheduler] max_attempts`` hosts were tried, then it
   goes to ERROR with a fault.

Every failure leaves the instance in ERROR with a fault (code 500) and the
``conductor_schedule_and_build_instances`` event of its action finished with
``Error``; an instance deleted meanwhile is skipped.
"""
from __future__ import annotations

import datetime
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common.db import models as base_models
from compute import exception
from compute import states
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from compute.scheduler import exception as scheduler_exception

LOG = logging.getLogger(__name__)
EVENT = "conductor_schedule_and_build_instances"
# A failed update because the instance went away or moved on: skip it.
GONE = (exception.InstanceNotFound, exception.UnexpectedTaskStateError,
        exception.UnexpectedVMStateError)
NO_VALID_HOST = (exception.NoValidHost, scheduler_exception.NoValidHost)


class SchedulerClient(Protocol):
    def select_destinations(self, ctxt: Any, request_spec: dict[str, Any],
                            instance_uuids: list[str]) -> list[dict[str, Any]]: ...


class ComputeClient(Protocol):
    def build_and_run_instance(self, ctxt: Any, host: str, instance_uuid: str,
                               request_spec: dict[str, Any], limits: dict[str, Any],
                               node: str) -> None: ...

    def prep_resize(self, ctxt: Any, host: str, instance_uuid: str, flavor: dict[str, Any],
                    migration_uuid: str, node: str, limits: dict[str, Any]) -> None: ...

    def unshelve_instance(self, ctxt: Any, host: str, instance_uuid: str,
                          node: str | None = None,
                          limits: dict[str, Any] | None = None) -> None: ...


def request_id(ctxt: Any) -> str:
    return str(getattr(ctxt, "request_id", None) or "")


def error_message(err: BaseException) -> str:
    """The message an exception carries (without a remote traceback)."""
    if isinstance(err, common_exception.Error):
        return err.message
    return "%s: %s" % (type(err).__name__, err) if str(err) else type(err).__name__


def fail_instance(instances: instances_db.InstanceStore, instance_uuid: str, message: str,
                  details: str | None, req_id: str | None, event: str = EVENT,
                  values: Mapping[str, Any] | None = None,
                  expected_task_state: Any = states.BUILD_TASK_STATES,
                  expected_vm_state: Sequence[str] | None = (states.BUILDING,)) -> bool:
    """ERROR (or ``values``), a 500 fault and the action event finished with Error.

    The update is compare-and-set on the expected states (by default: still
    building), so a delete that started meanwhile is never undone.
    :returns: False when the instance was deleted (or moved on) meanwhile.
    """
    updates = dict(values if values is not None
                   else {"vm_state": states.ERROR, "task_state": None})
    if isinstance(expected_task_state, tuple):
        expected_task_state = list(expected_task_state)
    try:
        instances.update(instance_uuid, updates, expected_task_state=expected_task_state,
                         expected_vm_state=(list(expected_vm_state)
                                            if expected_vm_state is not None else None))
    except GONE as err:
        LOG.info("Instance %(uuid)s not failed: %(err)s",
                 {"uuid": instance_uuid, "err": error_message(err)})
        return False
    instances.add_fault(instance_uuid, 500, message, details)
    if req_id:
        instances.action_event_finish(instance_uuid, req_id, event, "Error",
                                      details or message)
    LOG.warning("Instance %(uuid)s failed: %(msg)s", {"uuid": instance_uuid, "msg": message})
    return True


class Builder:
    """The build workflow of the conductor."""

    def __init__(self, conf: cfg.ConfigOpts, instances: instances_db.InstanceStore,
                 hosts: hosts_db.HostStore, scheduler: SchedulerClient,
                 compute: ComputeClient) -> None:
        self.conf = conf
        self.instances = instances
        self.hosts = hosts
        self.scheduler = scheduler
        self.compute = compute

    # -- a boot request
    def build_instances(self, ctxt: Any, instance_uuids: Sequence[str],
                        request_spec: Mapping[str, Any]) -> None:
        req_id = request_id(ctxt)
        uuids = [str(u) for u in instance_uuids]
        for instance_uuid in uuids:
            self.instances.action_event_start(instance_uuid, req_id, EVENT)
        try:
            selections = self.scheduler.select_destinations(ctxt, dict(request_spec), uuids)
        except NO_VALID_HOST as err:
            self._fail_all(uuids, error_message(err), traceback.format_exc(), req_id)
            return
        except Exception as err:  # scheduler unreachable or broken: fail, never hang
            LOG.exception("Scheduling %(uuids)s failed", {"uuids": uuids})
            self._fail_all(uuids, "Build of instance failed while scheduling: %s"
                           % error_message(err), traceback.format_exc(), req_id)
            return
        if len(selections) < len(uuids):
            self._fail_all(uuids[len(selections):], exception.NoValidHost(
                reason="The scheduler answered for fewer instances than asked.").message,
                None, req_id)
        for instance_uuid, selection in zip(uuids, selections, strict=False):
            self._build_one(ctxt, instance_uuid, request_spec, selection, req_id)

    def _fail_all(self, uuids: Sequence[str], message: str, details: str | None,
                  req_id: str) -> None:
        for instance_uuid in uuids:
            fail_instance(self.instances, instance_uuid, message, details, req_id)

    def _build_one(self, ctxt: Any, instance_uuid: str, request_spec: Mapping[str, Any],
                   selection: Mapping[str, Any], req_id: str) -> None:
        host, node = str(selection["host"]), str(selection["node"])
        try:
            instance = self.instances.get(instance_uuid)
        except exception.InstanceNotFound:
            LOG.info("Instance %(uuid)s was deleted while it was scheduled; not built",
                     {"uuid": instance_uuid})
            return
        spec = dict(request_spec)
        spec.update(instance.get("request_spec") or {})
        spec["retry"] = {"num_attempts": 1, "hosts": [[host, node]],
                         "alternates": [dict(a) for a in selection.get("alternates") or []],
                         "max_attempts": int(self.conf.filter_scheduler.max_attempts)}
        try:
            self.instances.update(instance_uuid, {"host": host, "node": node,
                                                  "request_spec": spec},
                                  expected_task_state=[states.SCHEDULING, None],
                                  expected_vm_state=[states.BUILDING])
        except GONE as err:
            LOG.info("Instance %(uuid)s not built: %(err)s",
                     {"uuid": instance_uuid, "err": error_message(err)})
            return
        self._cast_build(ctxt, instance_uuid, spec, selection, req_id)

    def _cast_build(self, ctxt: Any, instance_uuid: str, spec: dict[str, Any],
                    selection: Mapping[str, Any], req_id: str) -> None:
        host, node = str(selection["host"]), str(selection["node"])
        try:
            self.compute.build_and_run_instance(ctxt, host, instance_uuid, spec,
                                                dict(selection.get("limits") or {}), node)
        except Exception as err:  # the bus refused the cast: the build cannot start
            LOG.exception("Casting the build of %(uuid)s to %(host)s failed",
                          {"uuid": instance_uuid, "host": host})
            fail_instance(self.instances, instance_uuid,
                          "Build of instance %s failed: %s" % (instance_uuid,
                                                               error_message(err)),
                          traceback.format_exc(), req_id)
            return
        self.instances.action_event_finish(instance_uuid, req_id, EVENT, "Success",
                                           host=None)

    # -- a failed build
    def reschedule(self, ctxt: Any, instance_uuid: str, failed_host: str,
                   reason: str) -> None:
        req_id = request_id(ctxt)
        try:
            instance = self.instances.get(instance_uuid)
        except exception.InstanceNotFound:
            LOG.info("Instance %(uuid)s deleted; no reschedule", {"uuid": instance_uuid})
            return
        if instance.get("host") not in (failed_host, None):
            LOG.info("Instance %(uuid)s is on %(host)s now, not %(failed)s; no reschedule",
                     {"uuid": instance_uuid, "host": instance.get("host"),
                      "failed": failed_host})
            return
        spec = dict(instance.get("request_spec") or {})
        retry = dict(spec.get("retry") or {})
        attempts = int(retry.get("num_attempts") or 1)
        tried = [list(h) for h in retry.get("hosts") or []] or [[failed_host,
                                                                instance.get("node")]]
        alternates = [dict(a) for a in retry.get("alternates") or []
                      if a.get("host") != failed_host
                      and [a.get("host"), a.get("node")] not in tried]
        max_attempts = int(self.conf.filter_scheduler.max_attempts)
        self.instances.action_event_start(instance_uuid, req_id, EVENT)
        if attempts >= max_attempts or not alternates:
            self._exhausted(instance_uuid, attempts >= max_attempts, max_attempts, reason,
                            req_id)
            return
        chosen, rest = alternates[0], alternates[1:]
        host, node = str(chosen["host"]), str(chosen["node"])
        spec["retry"] = {"num_attempts": attempts + 1, "hosts": tried + [[host, node]],
                         "alternates": rest, "max_attempts": max_attempts}
        try:
            self.instances.update(instance_uuid, {"host": host, "node": node,
                                                  "task_state": states.SCHEDULING,
                                                  "request_spec": spec},
                                  expected_task_state=list(states.BUILD_TASK_STATES),
                                  expected_vm_state=[states.BUILDING])
        except GONE as err:
            LOG.info("Instance %(uuid)s not rescheduled: %(err)s",
                     {"uuid": instance_uuid, "err": error_message(err)})
            return
        LOG.info("Rescheduling %(uuid)s from %(failed)s to %(host)s (attempt %(n)d): "
                 "%(reason)s", {"uuid": instance_uuid, "failed": failed_host, "host": host,
                                "n": attempts + 1, "reason": reason})
        self._cast_build(ctxt, instance_uuid, spec, chosen, req_id)

    def _exhausted(self, instance_uuid: str, too_many: bool, max_attempts: int,
                   reason: str, req_id: str) -> None:
        if too_many:
            detail = ("Exceeded max scheduling attempts %d for instance %s. "
                      "Last exception: %s" % (max_attempts, instance_uuid, reason))
        else:
            detail = ("Exhausted all hosts available for retrying build failures for "
                      "instance %s. Last exception: %s" % (instance_uuid, reason))
        message = exception.MaxRetriesExceeded(reason=detail).message
        fail_instance(self.instances, instance_uuid, message, message, req_id,
                      values={"vm_state": states.ERROR, "task_state": None,
                              "host": None, "node": None})

    # -- builds nobody runs
    def fail_stuck_builds(self, now: datetime.datetime | None = None) -> list[str]:
        """Instances building for over ``[conductor] build_timeout`` seconds on a
        host without a live compute service (or on no host) go to ERROR.

        :returns: the uuids failed.
        """
        timeout = int(self.conf.conductor.build_timeout)
        if timeout <= 0:
            return []
        now = now or base_models.utcnow()
        down_time = int(self.conf.service_down_time)
        cutoff = now - datetime.timedelta(seconds=timeout)
        stuck = self.instances.get_all(vm_states=[states.BUILDING], changes_before=cutoff,
                                       sort=(("created_at", "asc"),))
        if not stuck:
            return []
        alive = {s["host"] for s in self.hosts.service_list(binary=hosts_db.COMPUTE_BINARY)
                 if hosts_db.is_up(s, down_time, now)}
        failed = []
        for instance in stuck:
            host = instance.get("host")
            if host in alive:
                continue
            message = ("Build of instance %s timed out after %d seconds: %s." % (
                instance["uuid"], timeout,
                "its compute host %s is not running" % host if host
                else "it was never scheduled"))
            if fail_instance(self.instances, instance["uuid"], message, None, None,
                             expected_task_state=instance.get("task_state")):
                failed.append(instance["uuid"])
        return failed

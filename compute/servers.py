"""Servers: the business rules behind the compute API's ``/servers``.

The flow of a server through the daemons: the API validates a create request
(flavor, image, networks, key pair, quota), writes the instances in one
reservation (vm_state ``building``, task_state ``scheduling``, their
``create`` action, their server-group membership) and casts
``build_instances`` to the conductor; the conductor asks the scheduler
(``select_destinations``, which records each instance's host and node as its
claim) and casts ``build_and_run_instance`` to each chosen node; the node
allocates the ports through the network service, spawns the guest through its
virt driver and reports every state change back through the conductor's
database methods (nodes hold no database credentials), rescheduling to an
alternate host through the conductor when a build fails. Later actions follow
the same shape: the API checks policy, lock and state, moves the task state
with a compare-and-set, records the instance action and casts the work to the
server's node (or, for resize and migrate, to the conductor, which schedules a
destination first); the node finishes the action and clears the task state.

This module holds the lookups, views' extra data, update, delete, metadata,
tags, instance actions and external events; :mod:`compute.server_create`
builds servers, :mod:`compute.server_actions` runs the actions and
:mod:`compute.server_query` turns list filters into queries.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from common.db import engine
from compute import availability_zones
from compute import exception
from compute import flavors as flavors_service
from compute import keypairs as keypairs_service
from compute import network_info
from compute import quotas
from compute import rpcapi
from compute import server_bdm
from compute import server_groups
from compute import states
from compute.db import hosts as hosts_db
from compute.db import instances as instances_db
from compute.db import models

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def call_node(what: str, instance_uuid: str, host: str, call: Callable[[], T]) -> T:
    """``call()`` (an RPC call to the node on ``host`` about an instance), its
    failures as the API answers them: ComputeServiceUnavailable (503) when the node
    does not answer, InstanceNotReady (409) when it failed there (logged)."""
    try:
        return call()
    except rpc.UNAVAILABLE as err:
        raise exception.ComputeServiceUnavailable(host=host) from err
    except messaging.RemoteError as err:
        LOG.warning("%(what)s of %(uuid)s failed on %(host)s: %(err)s",
                    {"what": what, "uuid": instance_uuid, "host": host, "err": err})
        raise exception.InstanceNotReady(instance_id=instance_uuid) from err
ANY = instances_db.ANY
# Where metadata may change, and tags (Nova's rules).
METADATA_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)
TAG_STATES = METADATA_STATES + (states.SHELVED, states.SHELVED_OFFLOADED)
MAX_TAGS = 50
# os-server-external-events names before 2.51 (volume-extended) and their statuses.
EVENT_NAMES = ("network-changed", "network-vif-plugged", "network-vif-unplugged",
               "network-vif-deleted")
EVENT_STATUSES = ("failed", "completed", "in-progress")
HOST_UP, HOST_DOWN, HOST_MAINTENANCE, HOST_UNKNOWN = "UP", "DOWN", "MAINTENANCE", "UNKNOWN"


def host_of(instance: Mapping[str, Any]) -> str:
    """The compute host of ``instance``. :raises: InstanceNotReady (409) when it is
    on no host yet."""
    if not instance.get("host"):
        raise exception.InstanceNotReady(instance_id=instance["uuid"])
    return str(instance["host"])


def request_id(ctxt: Any) -> str:
    return str(getattr(ctxt, "request_id", None) or "")


def instance_name(instance: Mapping[str, Any]) -> str:
    """The hypervisor's name of the guest (Nova's ``instance-%08x``)."""
    return "instance-%08x" % int(instance["id"])


class ServerService:
    """Servers of the compute database, as the API sees them."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database,
                 flavors: flavors_service.FlavorService,
                 keypairs: keypairs_service.KeypairService) -> None:
        self.conf = conf
        self.db = db
        self.store = instances_db.InstanceStore(db)
        self.hosts = hosts_db.HostStore(db)
        self.flavors = flavors
        self.keypairs = keypairs
        self.groups = server_groups.ServerGroupAPI(conf, db)
        self.quotas = quotas.QuotaService(conf, db)

    # -- RPC clients, built per use (the classes are looked up at call time)
    @staticmethod
    def conductor() -> rpcapi.ConductorAPI:
        return rpcapi.ConductorAPI()

    @staticmethod
    def node() -> rpcapi.ComputeNodeAPI:
        return rpcapi.ComputeNodeAPI()

    # -- lookups
    def get(self, ctxt: Any, server_id: str, read_deleted: bool = False) -> dict[str, Any]:
        """A server the caller may see: admins see every project's, others
        their own project's only (another project's is 404, as on Nova).

        :raises: InstanceNotFound.
        """
        instance = self.store.get(server_id, read_deleted=read_deleted)
        if not ctxt.is_admin and instance["project_id"] != ctxt.project_id:
            raise exception.InstanceNotFound(instance_id=server_id)
        return instance

    def host_is_up(self, host: str) -> bool:
        """Whether the compute service on ``host`` sends heartbeats."""
        found = self.hosts.service_list(binary=hosts_db.COMPUTE_BINARY, host=host)
        return bool(found) and hosts_db.is_up(found[0], self.conf.service_down_time)

    def _host_statuses(self, hosts: Iterable[str]) -> dict[str, str]:
        services = {s["host"]: s for s in
                    self.hosts.service_list(binary=hosts_db.COMPUTE_BINARY)}
        found: dict[str, str] = {}
        for host in hosts:
            service = services.get(host)
            if service is None:
                found[host] = HOST_UNKNOWN
            elif service["forced_down"]:
                found[host] = HOST_DOWN
            elif hosts_db.is_up(service, self.conf.service_down_time):
                found[host] = HOST_MAINTENANCE if service["disabled"] else HOST_UP
            else:
                found[host] = HOST_UNKNOWN
        return found

    def _volumes(self, uuids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        if not uuids:
            return {}
        bdm = models.BlockDeviceMapping
        query = (sa.select(bdm.instance_uuid, bdm.volume_id, bdm.delete_on_termination)
                 .where(bdm.instance_uuid.in_(list(uuids)), bdm.destination_type == "volume",
                        bdm.volume_id.is_not(None))
                 .order_by(bdm.id))
        found: dict[str, list[dict[str, Any]]] = {}
        with self.db.reader() as session:
            for instance_uuid, volume_id, delete in session.execute(query):
                found.setdefault(instance_uuid, []).append(
                    {"id": volume_id, "delete_on_termination": bool(delete)})
        return found

    def view_extras(self, instances: Sequence[Mapping[str, Any]],
                    host_status: bool = False) -> dict[str, dict[str, Any]]:
        """What a server's detailed view needs beyond its row, for many servers in
        a few queries: ``fault`` (ERROR and deleted servers), ``volumes``,
        ``availability_zone`` and, when asked, ``host_status``."""
        uuids = [i["uuid"] for i in instances]
        faults = self.store.latest_faults(
            [i["uuid"] for i in instances
             if i["vm_state"] in (states.ERROR, states.DELETED) or i["deleted"]])
        volumes = self._volumes(uuids)
        hosts = {i["host"] for i in instances if i["host"]}
        zones = availability_zones.host_zones(self.db, hosts) if hosts else {}
        statuses = self._host_statuses(hosts) if host_status else {}
        default_zone = self.conf.default_availability_zone
        extras: dict[str, dict[str, Any]] = {}
        for instance in instances:
            host = instance["host"]
            zone = (zones.get(host, default_zone) if host
                    else instance["availability_zone"] or "")
            extras[instance["uuid"]] = {
                "fault": faults.get(instance["uuid"]),
                "volumes": volumes.get(instance["uuid"], []),
                "availability_zone": zone,
                "host_status": statuses.get(host, HOST_UNKNOWN) if host else ""}
        return extras

    # -- the checks every change makes
    @staticmethod
    def check_locked(ctxt: Any, instance: Mapping[str, Any]) -> None:
        """:raises: InstanceIsLocked (409) for a locked server, unless an admin asks."""
        if instance["locked"] and not ctxt.is_admin:
            raise exception.InstanceIsLocked(instance_uuid=instance["uuid"])

    @staticmethod
    def check_state(instance: Mapping[str, Any], action: str,
                    vm_states: Sequence[str] | None,
                    task_states: Sequence[str | None] | None = (None,)) -> None:
        """:raises: InstanceInvalidState (409, Nova's "Cannot '<action>' instance
        <uuid> while it is in vm_state <state>") outside the allowed states."""
        for attr, allowed in (("vm_state", vm_states), ("task_state", task_states)):
            if allowed is not None and instance[attr] not in allowed:
                raise exception.InstanceInvalidState(
                    action=action, instance_uuid=instance["uuid"], attr=attr,
                    state=instance[attr])

    def set_states(self, instance: Mapping[str, Any], values: Mapping[str, Any],
                   vm_states: Sequence[str] | None,
                   task_states: Sequence[str | None] = (None,)) -> dict[str, Any]:
        """Compare-and-set: apply ``values`` only while the server is still in the
        states the check saw (a concurrent request gets a 409)."""
        return self.store.update(instance["uuid"], values,
                                 expected_task_state=list(task_states),
                                 expected_vm_state=list(vm_states) if vm_states else None)

    def record_action(self, ctxt: Any, instance_uuid: str, action: str) -> None:
        """The instance action of this request (``os-instance-actions``)."""
        self.store.action_start(instance_uuid, action, request_id(ctxt), ctxt.user_id,
                                ctxt.project_id)

    def record_api_action(self, ctxt: Any, instance_uuid: str, action: str,
                          event: str) -> None:
        """An action the API completes itself (lock, unlock, resetState): the
        action and its ``api_<event>`` event, finished."""
        self.record_action(ctxt, instance_uuid, action)
        self.store.action_event_finish(instance_uuid, request_id(ctxt), "api_" + event,
                                       "Success")

    def cast_to_node(self, host: str, cast: Any) -> None:
        """Run ``cast()`` (an RPC to ``host``); a bus that refuses it is a 503."""
        try:
            cast()
        except rpc.UNAVAILABLE as err:
            LOG.warning("Casting to compute host %(host)s failed: %(err)s",
                        {"host": host, "err": err})
            raise exception.ComputeServiceUnavailable(host=host) from err

    # -- update and delete
    def update(self, ctxt: Any, instance: Mapping[str, Any],
               values: Mapping[str, Any]) -> dict[str, Any]:
        """PUT /servers/{id}: name, description, access IPs, disk config."""
        if not values:
            return dict(instance)
        return self.store.update(instance["uuid"], values)

    def delete(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        """Delete in any state. A server on a host that is up goes to task_state
        ``deleting`` and its node removes the guest and its ports, then the row;
        one never scheduled (or whose host is down) is deleted in the database now.

        :raises: InstanceIsLocked for non-admins.
        """
        self.check_locked(ctxt, instance)
        uuid, host = instance["uuid"], instance["host"]
        self.record_action(ctxt, uuid, "delete")
        if host and self.host_is_up(host):
            try:
                self.store.update(uuid, {"task_state": states.DELETING})
            except exception.InstanceNotFound:
                return
            self.cast_to_node(host, lambda: self.node().terminate_instance(ctxt, host, uuid))
            return
        if host:
            LOG.warning("Compute host %(host)s of instance %(uuid)s is down: deleting the "
                        "instance here and releasing its ports", {"host": host, "uuid": uuid})
        self.store.destroy(uuid)
        # Its node never will: release the volumes (and delete those asked for).
        server_bdm.BlockDeviceWriter(self.conf, self.db).release_instance(ctxt, uuid)
        if host or instance.get("network_info"):
            # Its node never will: release the ports it may have bound (Nova's local delete).
            try:
                network_info.deallocate_for_instance(self.conf, ctxt, uuid,
                                                     list(instance.get("network_info") or []))
            except Exception as err:  # the row is gone already; the ports can be retried
                LOG.warning("Releasing the ports of deleted instance %(uuid)s failed: "
                            "%(err)s", {"uuid": uuid, "err": err})

    # -- metadata
    def _check_metadata_quota(self, instance: Mapping[str, Any],
                              metadata: Mapping[str, str]) -> None:
        limit = self.quotas.limits(instance["project_id"],
                                   instance["user_id"])["metadata_items"]
        if 0 <= limit < len(metadata):
            raise exception.MetadataLimitExceeded(allowed=limit)

    def update_metadata(self, ctxt: Any, instance: Mapping[str, Any],
                        metadata: Mapping[str, str], replace: bool) -> dict[str, str]:
        """Merge ``metadata`` into the server's (or replace all of it); the whole set.

        :raises: InstanceIsLocked, InstanceInvalidState, MetadataLimitExceeded (403).
        """
        self.check_locked(ctxt, instance)
        self.check_state(instance, "update metadata", METADATA_STATES)
        merged = dict(metadata) if replace else {**instance["metadata"], **metadata}
        self._check_metadata_quota(instance, merged)
        return self.store.set_metadata(instance["uuid"], metadata, replace)

    def delete_metadata(self, ctxt: Any, instance: Mapping[str, Any], key: str) -> None:
        """:raises: InstanceIsLocked, InstanceInvalidState, InstanceMetadataNotFound."""
        self.check_locked(ctxt, instance)
        self.check_state(instance, "delete metadata", METADATA_STATES)
        self.store.delete_metadata(instance["uuid"], key)

    # -- tags (2.26)
    def _check_tag_state(self, instance: Mapping[str, Any], action: str) -> None:
        self.check_state(instance, action, TAG_STATES)

    def set_tags(self, ctxt: Any, instance: Mapping[str, Any],
                 tags: Sequence[str]) -> list[str]:
        self._check_tag_state(instance, "update tags")
        return self.store.set_tags(instance["uuid"], tags)

    def add_tag(self, ctxt: Any, instance: Mapping[str, Any], tag: str) -> bool:
        """:returns: False when the server already had the tag.
        :raises: TooManyInstanceTags (400) past 50 tags."""
        self._check_tag_state(instance, "update tag")
        if tag not in instance["tags"] and len(instance["tags"]) >= MAX_TAGS:
            raise exception.TooManyInstanceTags(limit=MAX_TAGS)
        return self.store.add_tag(instance["uuid"], tag)

    def delete_tag(self, ctxt: Any, instance: Mapping[str, Any], tag: str) -> None:
        self._check_tag_state(instance, "delete tag")
        self.store.delete_tag(instance["uuid"], tag)

    def delete_tags(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        self._check_tag_state(instance, "delete tags")
        self.store.set_tags(instance["uuid"], [])

    # -- instance actions
    def list_actions(self, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self.store.list_actions(instance["uuid"])

    def get_action(self, instance: Mapping[str, Any], req_id: str) -> dict[str, Any]:
        """:raises: InstanceActionNotFound."""
        return self.store.get_action(instance["uuid"], req_id)

    # -- external events (from the network service)
    def external_events(self, ctxt: Any,
                        events: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Deliver events to the nodes of their servers, one cast per host.

        :returns: each event with its ``code`` (200 delivered, 404 no such server,
            422 a server on no host) and the response status (200, or 207 when
            some event failed).
        :raises: NotFound when no event could be delivered.
        """
        wanted = sorted({str(e["server_uuid"]) for e in events})
        found = {i["uuid"]: i for i in self.store.get_all(uuids=wanted)}
        by_host: dict[str, list[dict[str, Any]]] = {}
        results: list[dict[str, Any]] = []
        for event in events:
            result: dict[str, Any] = {"server_uuid": event["server_uuid"],
                                      "name": event["name"],
                                      "status": event.get("status") or "completed"}
            if event.get("tag") is not None:
                result["tag"] = event["tag"]
            instance = found.get(str(event["server_uuid"]))
            if instance is None:
                result.update(code=404, status="failed")
            elif not instance["host"]:
                result.update(code=422, status="failed")
            else:
                result["code"] = 200
                by_host.setdefault(instance["host"], []).append(
                    {"name": result["name"], "tag": result.get("tag"),
                     "status": result["status"], "server_uuid": result["server_uuid"]})
            results.append(result)
        if not by_host:
            raise common_exception.NotFound("No instances found for any event")
        for host, host_events in by_host.items():
            try:
                self.node().external_instance_event(ctxt, host, host_events)
            except rpc.UNAVAILABLE as err:
                LOG.warning("Events for %(host)s not delivered: %(err)s",
                            {"host": host, "err": err})
                for result in results:
                    if any(e["server_uuid"] == result["server_uuid"] for e in host_events):
                        result.update(code=500, status="failed")
        code = 200 if all(r["code"] == 200 for r in results) else 207
        return results, code

"""Rescue and unrescue (Nova's os-rescue): the rules of the two server actions.

A rescue takes a server that is ACTIVE, SHUTOFF or ERROR (409 otherwise, and
for non-admins on a locked server), not volume-backed (400: volume-backed
rescue arrives with microversion 2.87, beyond this API) and on a host; a named
rescue image must exist and be active (400). It moves task_state to
``rescuing`` (a compare-and-set: a concurrent action gets a 409), records the
``rescue`` action and casts ``rescue_instance`` to the server's node with the
rescue password (the request's ``adminPass``, else a generated one, which the
API answers with). Unrescue takes a RESCUE server: task_state ``unrescuing``,
action ``unrescue``, cast ``unrescue_instance``. A cast the bus refuses puts
the task state back and answers 503. The node does the rest
(:mod:`compute.node.rescue`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import exception
from compute import server_create
from compute import servers as servers_service
from compute import states

LOG = logging.getLogger(__name__)
RESCUE_STATES = (states.ACTIVE, states.STOPPED, states.ERROR)
UNRESCUE_STATES = (states.RESCUED,)


class ServerRescue:
    def __init__(self, servers: servers_service.ServerService,
                 builder: server_create.ServerBuilder) -> None:
        self.servers = servers
        self.builder = builder
        self.store = servers.store

    _host = staticmethod(servers_service.host_of)

    def _start(self, ctxt: Any, instance: Mapping[str, Any], action: str,
               vm_states: tuple[str, ...], task_state: str) -> None:
        self.servers.set_states(instance, {"task_state": task_state}, vm_states)
        self.servers.record_action(ctxt, instance["uuid"], action)

    def _cast(self, instance: Mapping[str, Any], task_state: str, host: str,
              cast: Callable[[], None]) -> None:
        """Cast; when the bus refuses, put the task state back (503)."""
        try:
            cast()
        except rpc.UNAVAILABLE as err:
            LOG.warning("Cast for instance %(uuid)s failed: %(err)s",
                        {"uuid": instance["uuid"], "err": err})
            try:
                self.store.update(instance["uuid"], {"task_state": None},
                                  expected_task_state=task_state)
            except common_exception.Error:
                LOG.warning("Task state of %s not reverted", instance["uuid"])
            raise exception.ComputeServiceUnavailable(host=host) from err

    def rescue(self, ctxt: Any, instance: Mapping[str, Any], password: str | None,
               rescue_image_ref: str | None) -> str:
        """Start the rescue; :returns: the rescue password.

        :raises: InstanceIsLocked, InstanceInvalidState (409), InstanceNotRescuable,
            UnsupportedRescueImage (400), InstanceNotReady (409: no host yet),
            ComputeServiceUnavailable (503).
        """
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "rescue", RESCUE_STATES)
        uuid = str(instance["uuid"])
        if not instance["image_ref"]:
            raise exception.InstanceNotRescuable(
                instance_id=uuid, reason="Cannot rescue a volume-backed instance")
        if rescue_image_ref:
            try:
                self.builder.get_image(ctxt, rescue_image_ref)
            except (exception.ImageNotFound, common_exception.Invalid) as err:
                raise exception.UnsupportedRescueImage(image=rescue_image_ref) from err
        host = self._host(instance)
        password = password or server_create.generate_password()
        self._start(ctxt, instance, "rescue", RESCUE_STATES, states.RESCUING)
        self._cast(instance, states.RESCUING, host,
                   lambda: self.servers.node().rescue_instance(
                       ctxt, host, uuid, password, rescue_image_ref or None))
        return password

    def unrescue(self, ctxt: Any, instance: Mapping[str, Any]) -> None:
        """Start the unrescue.

        :raises: InstanceIsLocked, InstanceInvalidState (409), InstanceNotReady,
            ComputeServiceUnavailable (503).
        """
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, "unrescue", UNRESCUE_STATES)
        host = self._host(instance)
        uuid = str(instance["uuid"])
        self._start(ctxt, instance, "unrescue", UNRESCUE_STATES, states.UNRESCUING)
        self._cast(instance, states.UNRESCUING, host,
                   lambda: self.servers.node().unrescue_instance(ctxt, host, uuid))

"""A server's port interfaces (``os-interface``): list, show, attach, detach.

The list and a single interface are read from the network service (the ports
whose ``device_id`` is the server, as the user sees them). Attaching follows
Nova's order: the lock (409 for non-admins), the state (ACTIVE, PAUSED or
STOPPED with no task, else 409), the body's rules (``port_id`` and ``net_id``
exclude each other; a fixed IP needs ``net_id``: 400), the instance action
``attach_interface``, then a *call* to the server's node, which creates (or
adopts) the port, plugs it into the guest and adds it to the network_info; the
answer shows the new port. Detaching checks the same, 404s a port the server
does not have (its network_info), records ``detach_interface`` and casts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import oslo_messaging as messaging
from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import exception
from compute import servers as servers_service
from compute import states
from compute.clients import network as network_client

LOG = logging.getLogger(__name__)
ALLOWED_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED)
ATTACH = "attach_interface"
DETACH = "detach_interface"


def view(port: Mapping[str, Any]) -> dict[str, Any]:
    """A network service port as an ``interfaceAttachment``."""
    return {"port_state": port.get("status"),
            "fixed_ips": [{"subnet_id": ip.get("subnet_id"), "ip_address": ip.get("ip_address")}
                          for ip in port.get("fixed_ips") or ()],
            "port_id": port.get("id"), "net_id": port.get("network_id"),
            "mac_addr": port.get("mac_address")}


def _entry_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A network_info entry as an ``interfaceAttachment`` (when the network
    service does not list the port yet)."""
    network: Mapping[str, Any] = entry.get("network") or {}
    return {"port_state": "ACTIVE" if entry.get("active") else "DOWN",
            "fixed_ips": [{"subnet_id": subnet.get("id"), "ip_address": ip.get("address")}
                          for subnet in network.get("subnets") or ()
                          for ip in subnet.get("ips") or ()],
            "port_id": entry.get("id"), "net_id": network.get("id"),
            "mac_addr": entry.get("address")}


class ServerInterfaces:
    def __init__(self, servers: servers_service.ServerService) -> None:
        self.servers = servers
        self.conf = servers.conf

    def _ports(self, ctxt: Any, instance: Mapping[str, Any],
               port_id: str | None = None) -> list[dict[str, Any]]:
        filters: dict[str, Any] = {"device_id": instance["uuid"]}
        if port_id is not None:
            filters["id"] = port_id
        return network_client.list_ports(self.conf, ctxt, filters)

    def list(self, ctxt: Any, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [view(port) for port in self._ports(ctxt, instance)]

    def show(self, ctxt: Any, instance: Mapping[str, Any], port_id: str) -> dict[str, Any]:
        """:raises: PortNotFound (404) for a port the server does not have."""
        for port in self._ports(ctxt, instance, port_id):
            if port.get("id") == port_id:
                return view(port)
        raise exception.PortNotFound(port_id=port_id)

    def _check(self, ctxt: Any, instance: Mapping[str, Any], action: str) -> str:
        self.servers.check_locked(ctxt, instance)
        self.servers.check_state(instance, action, ALLOWED_STATES)
        return servers_service.host_of(instance)

    def attach(self, ctxt: Any, instance: Mapping[str, Any],
               body: Mapping[str, Any]) -> dict[str, Any]:
        """Attach the port (or a new port on the network) the request names.

        :raises: InstanceIsLocked, InstanceInvalidState, InstanceNotReady (409),
            BadRequest (both ids, or an IP without a network), what the node
            raises (PortNotFound, NetworkNotFound, PortInUse, ...),
            InterfaceAttachFailed, ComputeServiceUnavailable (503).
        """
        port_id = body.get("port_id") or None
        network_id = body.get("net_id") or None
        fixed_ips = body.get("fixed_ips") or []
        fixed_ip = str(fixed_ips[0]["ip_address"]) if fixed_ips else None
        if port_id and network_id:
            raise common_exception.Invalid("Must not input both network_id and port_id")
        if fixed_ip and not network_id:
            raise common_exception.Invalid("Must input network_id when request IP address")
        host = self._check(ctxt, instance, ATTACH)
        uuid = str(instance["uuid"])
        self.servers.record_action(ctxt, uuid, ATTACH)
        try:
            entry = self.servers.node().attach_interface(ctxt, host, uuid, network_id,
                                                         port_id, fixed_ip)
        except rpc.UNAVAILABLE as err:
            LOG.warning("Attaching an interface to %(uuid)s on %(host)s failed: %(err)s",
                        {"uuid": uuid, "host": host, "err": err})
            raise exception.ComputeServiceUnavailable(host=host) from err
        except messaging.RemoteError as err:
            LOG.warning("Attaching an interface to %(uuid)s failed on %(host)s: %(err)s",
                        {"uuid": uuid, "host": host, "err": err})
            raise exception.InterfaceAttachFailed(instance_uuid=uuid) from err
        new_port = str(entry.get("id") or "")
        ports = self._ports(ctxt, instance, new_port) if new_port else []
        for port in ports:
            if port.get("id") == new_port:
                return view(port)
        return _entry_view(entry)

    def detach(self, ctxt: Any, instance: Mapping[str, Any], port_id: str) -> None:
        """:raises: InstanceIsLocked, InstanceInvalidState (409), PortNotFound
        (404, a port the server does not have), ComputeServiceUnavailable."""
        host = self._check(ctxt, instance, DETACH)
        if not any(vif.get("id") == port_id for vif in instance.get("network_info") or ()):
            raise exception.PortNotFound(port_id=port_id)
        uuid = str(instance["uuid"])
        self.servers.record_action(ctxt, uuid, DETACH)
        self.servers.cast_to_node(host, lambda: self.servers.node().detach_interface(
            ctxt, host, uuid, port_id))

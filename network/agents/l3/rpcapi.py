"""RPC clients of the L3 side: ``L3PluginAPI`` (agents -> server, topic
``network-plugin``, namespace ``l3``) and ``L3AgentAPI`` (server -> L3 agents,
fanout on topic ``l3_agent``)."""
from __future__ import annotations

from typing import Any

from network import rpcapi

TOPIC = "l3_agent"
NAMESPACE = "l3"
L3_AGENT_TYPE = "L3 agent"
METADATA_AGENT_TYPE = "Metadata agent"
TIMEOUT = 30


class L3PluginAPI(rpcapi.ServerClient):
    """What L3 and metadata agents call on the server (its ``l3`` endpoint).

    History:
      1.0 - Initial: sync_routers, update_floatingip_statuses,
            update_router_ports_status, get_ports_for_metadata
    """

    RPC_API_VERSION = "1.0"
    NAMESPACE = NAMESPACE

    def sync_routers(self, ctxt: Any, host: str,
                     router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """The routers the L3 agent on ``host`` hosts (scheduling unbound ones),
        restricted to ``router_ids`` when given."""
        return list(self._call(ctxt, "sync_routers", host=host, router_ids=router_ids))

    def update_floatingip_statuses(self, ctxt: Any, router_id: str,
                                   statuses: dict[str, str]) -> None:
        """Record ``{floating ip id: ACTIVE|DOWN|ERROR}`` for ``router_id``'s floating IPs."""
        self._call(ctxt, "update_floatingip_statuses", router_id=router_id,
                   statuses=statuses)

    def update_router_ports_status(self, ctxt: Any, router_id: str, port_ids: list[str],
                                   status: str) -> None:
        """Set the status of the router's ports among ``port_ids``."""
        self._call(ctxt, "update_router_ports_status", router_id=router_id,
                   port_ids=port_ids, status=status)

    def get_ports_for_metadata(self, ctxt: Any, ip_address: str,
                               router_id: str | None = None,
                               network_id: str | None = None) -> list[dict[str, Any]]:
        """Ports with ``ip_address`` on the router's networks (or on ``network_id``)."""
        return list(self._call(ctxt, "get_ports_for_metadata", ip_address=ip_address,
                               router_id=router_id, network_id=network_id))


class L3AgentAPI(rpcapi.FanoutClient):
    """Fanout casts to every L3 agent; each converges the routers it hosts.

    History:
      1.0 - Initial: routers_updated, router_deleted
    """

    RPC_API_VERSION = "1.0"
    TOPIC = TOPIC

    def routers_updated(self, ctxt: Any, router_ids: list[str]) -> None:
        """Routers were created, updated, (un)scheduled, or their interfaces or
        floating IPs changed: the agents resync them."""
        self._cast(ctxt, "routers_updated", router_ids=router_ids)

    def router_deleted(self, ctxt: Any, router_id: str) -> None:
        """A router was deleted: the agent hosting it removes it."""
        self._cast(ctxt, "router_deleted", router_id=router_id)

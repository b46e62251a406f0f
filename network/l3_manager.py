"""stratus-network-server's ``l3`` RPC endpoint (topic ``network-plugin``,
namespace ``l3``): what L3 and metadata agents call. Served beside
``network.manager.PluginManager`` by the same RPC server."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import exception as common_exc
from common import rpc
from network.agents.l3 import rpcapi
from network.plugin import core

_EXPECTED = (common_exc.Invalid, common_exc.NotFound, common_exc.Conflict)


class L3PluginManager:
    """Thin façade over ``plugin.l3_agents``; every public method is an RPC method."""

    target = messaging.Target(namespace=rpcapi.NAMESPACE,
                              version=rpcapi.L3PluginAPI.RPC_API_VERSION)

    def __init__(self, plugin: core.Plugin) -> None:
        self.plugin = plugin

    @rpc.expected(*_EXPECTED)
    def sync_routers(self, ctxt: Any, host: str,
                     router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Routers hosted by the L3 agent on ``host`` (scheduling unbound ones to the
        least loaded alive agent), with ``gw_port``, ``_interfaces``,
        ``_floatingips`` and ``routes``. :raises: nothing expected."""
        return self.plugin.l3_agents.sync_routers(ctxt, host, router_ids)

    @rpc.expected(*_EXPECTED)
    def update_floatingip_statuses(self, ctxt: Any, router_id: str,
                                   statuses: dict[str, str]) -> None:
        """:raises: InvalidInput (an unknown status)."""
        self.plugin.l3_agents.update_floatingip_statuses(ctxt, router_id, statuses)

    @rpc.expected(*_EXPECTED)
    def update_router_ports_status(self, ctxt: Any, router_id: str, port_ids: list[str],
                                   status: str) -> None:
        """:raises: InvalidInput (an unknown status)."""
        self.plugin.l3_agents.update_router_ports_status(ctxt, router_id, port_ids, status)

    @rpc.expected(*_EXPECTED)
    def get_ports_for_metadata(self, ctxt: Any, ip_address: str,
                               router_id: str | None = None,
                               network_id: str | None = None) -> list[dict[str, Any]]:
        """:raises: nothing expected."""
        return self.plugin.l3_agents.get_ports_for_metadata(ctxt, ip_address, router_id,
                                                            network_id)

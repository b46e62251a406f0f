"""stratus-network-server's RPC endpoint (topic ``network-plugin``): what agents
call. Agents hold no database credentials; they go through here."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import exception as common_exc
from common import rpc
from network import rpcapi
from network.plugin import core

_EXPECTED = (common_exc.Invalid, common_exc.NotFound, common_exc.Conflict)


class PluginManager:
    """Thin façade over the plugin; every public method is an RPC method."""

    target = messaging.Target(version=rpcapi.PluginAPI.RPC_API_VERSION)

    def __init__(self, plugin: core.Plugin) -> None:
        self.plugin = plugin

    @rpc.expected(*_EXPECTED)
    def report_state(self, ctxt: Any, agent_state: dict[str, Any]) -> dict[str, Any]:
        """Upsert the agent and its heartbeat. :raises: InvalidInput."""
        return self.plugin.agents.report_state(ctxt, agent_state)

    @rpc.expected(*_EXPECTED)
    def get_agent(self, ctxt: Any, agent_type: str, host: str) -> dict[str, Any] | None:
        """:raises: nothing."""
        for agent in self.plugin.agents.get_all(ctxt):
            if agent["agent_type"] == agent_type and agent["host"] == host:
                return agent
        return None

    @rpc.expected(*_EXPECTED)
    def get_active_networks_info(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        """Networks the DHCP agent on ``host`` serves (scheduled here, DHCP ports
        created here). Since 1.1. :raises: nothing expected."""
        return self.plugin.dhcp.active_networks_info(ctxt, host)

    @rpc.expected(*_EXPECTED)
    def get_network_info(self, ctxt: Any, network_id: str, host: str) -> dict[str, Any] | None:
        """One network as :meth:`get_active_networks_info` describes it, None when it is
        gone, has no DHCP subnet or is not served by ``host``. Since 1.1."""
        if network_id not in self.plugin.dhcp.networks_of_host(host):
            return None
        return self.plugin.dhcp.network_info(ctxt, network_id, host)

"""Client of the bridge agents (topic ``bridge_agent``, fanout): what the server
sends them after ports, networks and security groups change."""
from __future__ import annotations

from typing import Any

from network import rpcapi

TOPIC = "bridge_agent"


class BridgeAgentAPI(rpcapi.FanoutClient):
    """Fanout casts to every bridge agent; each acts on the ports it hosts.

    History:
      1.0 - Initial: port_update, port_delete, network_delete,
            security_groups_rule_updated, security_groups_member_updated
    """

    RPC_API_VERSION = "1.0"
    TOPIC = TOPIC

    def port_update(self, ctxt: Any, port_id: str) -> None:
        """The port changed (admin state, addresses, groups, pairs): re-read it."""
        self._cast(ctxt, "port_update", port_id=port_id)

    def port_delete(self, ctxt: Any, port_id: str) -> None:
        """The port is gone: stop filtering it."""
        self._cast(ctxt, "port_delete", port_id=port_id)

    def network_delete(self, ctxt: Any, network_id: str) -> None:
        """The network is gone: remove its bridge once no device uses it."""
        self._cast(ctxt, "network_delete", network_id=network_id)

    def security_groups_rule_updated(self, ctxt: Any, security_groups: list[str]) -> None:
        """Rules of these groups changed: refresh the firewall of their ports."""
        self._cast(ctxt, "security_groups_rule_updated",
                   security_groups=list(security_groups))

    def security_groups_member_updated(self, ctxt: Any, security_groups: list[str]) -> None:
        """Members (ports or their addresses) of these groups changed: refresh the
        firewall of ports whose rules name them as remote groups."""
        self._cast(ctxt, "security_groups_member_updated",
                   security_groups=list(security_groups))

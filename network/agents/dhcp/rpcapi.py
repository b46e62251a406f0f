"""Client of the DHCP agents (topic ``dhcp_agent``, fanout): what the server sends them."""
from __future__ import annotations

from typing import Any

from network import rpcapi

TOPIC = "dhcp_agent"


class DhcpAgentAPI(rpcapi.FanoutClient):
    """Fanout casts to every DHCP agent; each resyncs the network if it serves it.

    History:
      1.0 - Initial: network_changed
    """

    RPC_API_VERSION = "1.0"
    TOPIC = TOPIC

    def network_changed(self, ctxt: Any, network_id: str) -> None:
        """A network, one of its subnets or ports was created, updated or deleted."""
        self._cast(ctxt, "network_changed", network_id=network_id)

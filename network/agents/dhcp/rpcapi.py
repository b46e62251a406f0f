"""Client of the DHCP agents (topic ``dhcp_agent``, fanout): what the server sends them."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import rpc

TOPIC = "dhcp_agent"


class DhcpAgentAPI:
    """Fanout casts to every DHCP agent; each resyncs the network if it serves it.

    History:
      1.0 - Initial: network_changed
    """

    RPC_API_VERSION = "1.0"

    def __init__(self) -> None:
        self._client = rpc.get_client(
            messaging.Target(topic=TOPIC, fanout=True, version="1.0"),
            timeout=rpc.DEFAULT_CALL_TIMEOUT)

    def network_changed(self, ctxt: Any, network_id: str) -> None:
        """A network, one of its subnets or ports was created, updated or deleted."""
        cctxt = self._client.prepare(version="1.0", fanout=True)
        cctxt.cast(ctxt, "network_changed", network_id=network_id)

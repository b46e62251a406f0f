"""Client of stratus-network-server's RPC endpoint, for the agents."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg

from common import rpc

TOPIC = "network-plugin"
# The agent_type DHCP agents report with (the server schedules networks to them).
DHCP_AGENT_TYPE = "DHCP agent"
TIMEOUT = 30


class ServerClient:
    """A client of one endpoint of stratus-network-server on topic ``network-plugin``
    (``NAMESPACE`` None: the main endpoint, ``network.manager``)."""

    NAMESPACE: str | None = None

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._client = rpc.get_client(
            messaging.Target(topic=TOPIC, namespace=self.NAMESPACE, version="1.0"),
            timeout=timeout)

    def _call(self, ctxt: Any, method: str, version: str = "1.0", **kwargs: Any) -> Any:
        cctxt = self._client.prepare(namespace=self.NAMESPACE, version=version,
                                     timeout=self._timeout)
        return cctxt.call(ctxt, method, **kwargs)


class FanoutClient:
    """Casts to every agent listening on ``TOPIC`` (fanout)."""

    TOPIC = ""

    def __init__(self) -> None:
        self._client = rpc.get_client(
            messaging.Target(topic=self.TOPIC, fanout=True, version="1.0"),
            timeout=rpc.DEFAULT_CALL_TIMEOUT)

    def _cast(self, ctxt: Any, method: str, **kwargs: Any) -> None:
        cctxt = self._client.prepare(version="1.0", fanout=True)
        cctxt.cast(ctxt, method, **kwargs)


class PluginAPI(ServerClient):
    """Client for the network server (topic ``network-plugin``).

    History:
      1.0 - Initial: report_state, get_agent
      1.1 - get_active_networks_info, get_network_info (DHCP agents)
    """

    RPC_API_VERSION = "1.1"

    def __init__(self, conf: cfg.ConfigOpts, timeout: float = TIMEOUT) -> None:
        super().__init__(timeout)

    def report_state(self, ctxt: Any, agent_state: dict[str, Any]) -> dict[str, Any]:
        """Record an agent heartbeat (``agent_type``, ``binary``, ``host``, ``topic``,
        ``configurations``, optional ``start_flag``); returns the agent as the API shows it."""
        return dict(self._call(ctxt, "report_state", agent_state=agent_state))

    def get_agent(self, ctxt: Any, agent_type: str, host: str) -> dict[str, Any] | None:
        """The agent of ``agent_type`` on ``host`` (None when it never reported)."""
        found = self._call(ctxt, "get_agent", agent_type=agent_type, host=host)
        return dict(found) if found is not None else None

    def get_active_networks_info(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        """The networks the DHCP agent on ``host`` serves, with subnets, ports and its
        DHCP port (scheduling unbound networks to it)."""
        return list(self._call(ctxt, "get_active_networks_info", version="1.1", host=host))

    def get_network_info(self, ctxt: Any, network_id: str, host: str) -> dict[str, Any] | None:
        """One network served by the DHCP agent on ``host``; None when it no longer is."""
        found = self._call(ctxt, "get_network_info", version="1.1", network_id=network_id,
                           host=host)
        return dict(found) if found is not None else None

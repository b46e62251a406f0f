"""Client of stratus-network-server's RPC endpoint, for the agents."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging
from oslo_config import cfg

from common import rpc

TOPIC = "network-plugin"
TIMEOUT = 30


class PluginAPI:
    """Client for the network server (topic ``network-plugin``).

    History:
      1.0 - Initial: report_state, get_agent
    """

    RPC_API_VERSION = "1.0"

    def __init__(self, conf: cfg.ConfigOpts, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._client = rpc.get_client(messaging.Target(topic=TOPIC, version="1.0"),
                                      timeout=timeout)

    def _call(self, ctxt: Any, method: str, version: str = "1.0", **kwargs: Any) -> Any:
        cctxt = self._client.prepare(version=version, timeout=self._timeout)
        return cctxt.call(ctxt, method, **kwargs)

    def report_state(self, ctxt: Any, agent_state: dict[str, Any]) -> dict[str, Any]:
        """Record an agent heartbeat (``agent_type``, ``binary``, ``host``, ``topic``,
        ``configurations``, optional ``start_flag``); returns the agent as the API shows it."""
        return dict(self._call(ctxt, "report_state", agent_state=agent_state))

    def get_agent(self, ctxt: Any, agent_type: str, host: str) -> dict[str, Any] | None:
        """The agent of ``agent_type`` on ``host`` (None when it never reported)."""
        found = self._call(ctxt, "get_agent", agent_type=agent_type, host=host)
        return dict(found) if found is not None else None

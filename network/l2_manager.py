"""stratus-network-server's RPC endpoint for the L2 (Linux bridge) agents: topic
``network-plugin``, namespace ``l2`` (its own version history; the client is
``network.agents.bridge.plugin_api.L2PluginAPI``)."""
from __future__ import annotations

from typing import Any

import oslo_messaging as messaging

from common import exception as common_exc
from common import rpc
from network.agents.bridge import plugin_api
from network.plugin import core

_EXPECTED = (common_exc.Invalid, common_exc.NotFound, common_exc.Conflict)


class L2Manager:
    """Thin façade over ``plugin.l2``; every public method is an RPC method."""

    target = messaging.Target(namespace=plugin_api.NAMESPACE,
                              version=plugin_api.L2PluginAPI.RPC_API_VERSION)

    def __init__(self, plugin: core.Plugin) -> None:
        self.plugin = plugin

    @rpc.expected(*_EXPECTED)
    def get_devices_details_list(self, ctxt: Any, devices: list[str],
                                 host: str) -> list[dict[str, Any]]:
        """Details of each device (``{"device": d}`` alone when no port matches).
        :raises: nothing expected."""
        return self.plugin.l2.devices_details(ctxt, devices, host)

    @rpc.expected(*_EXPECTED)
    def update_device_up(self, ctxt: Any, device: str, host: str) -> dict[str, Any] | None:
        """Port ACTIVE (bound to ``host`` if unbound); None when not ``host``'s port."""
        return self.plugin.l2.update_device_up(ctxt, device, host)

    @rpc.expected(*_EXPECTED)
    def update_device_down(self, ctxt: Any, device: str, host: str) -> dict[str, Any] | None:
        """Port DOWN; None when not ``host``'s port."""
        return self.plugin.l2.update_device_down(ctxt, device, host)

    @rpc.expected(*_EXPECTED)
    def security_group_info_for_devices(self, ctxt: Any,
                                        devices: list[str]) -> dict[str, Any]:
        """Rules of the groups of ``devices`` (port ids) and their remote groups'
        member IPs. :raises: nothing expected."""
        return self.plugin.l2.security_group_info(ctxt, devices)

    @rpc.expected(*_EXPECTED)
    def get_tunnel_peers(self, ctxt: Any, host: str) -> list[str]:
        """Tunneling IPs of the other live bridge agents."""
        return self.plugin.l2.tunnel_peers(ctxt, host)

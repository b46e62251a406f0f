"""The bridge agent's client of stratus-network-server (topic ``network-plugin``,
namespace ``l2``; served by ``network.l2_manager.L2Manager``)."""
from __future__ import annotations

from typing import Any

from network import rpcapi

NAMESPACE = "l2"
# The agent_type bridge agents report with (the server finds tunnel peers by it).
AGENT_TYPE = "Linux bridge agent"


class L2PluginAPI(rpcapi.ServerClient):
    """What a bridge agent asks the server.

    History:
      1.0 - Initial: get_devices_details_list, update_device_up, update_device_down,
            security_group_info_for_devices, get_tunnel_peers
    """

    RPC_API_VERSION = "1.0"
    NAMESPACE = NAMESPACE

    def get_devices_details_list(self, ctxt: Any, devices: list[str],
                                 host: str) -> list[dict[str, Any]]:
        """One dict per device: port, network segment, addresses, security (see
        ``network.plugin.l2.L2.device_details``); only ``device`` when unknown."""
        return [dict(d) for d in self._call(ctxt, "get_devices_details_list",
                                            devices=list(devices), host=host)]

    def update_device_up(self, ctxt: Any, device: str, host: str) -> dict[str, Any] | None:
        """The device is wired on ``host``: its port becomes ACTIVE (bound to ``host``
        when unbound). None when the server knows no such port of ``host``."""
        found = self._call(ctxt, "update_device_up", device=device, host=host)
        return dict(found) if found is not None else None

    def update_device_down(self, ctxt: Any, device: str,
                           host: str) -> dict[str, Any] | None:
        """The device is gone from ``host`` or administratively down: DOWN."""
        found = self._call(ctxt, "update_device_down", device=device, host=host)
        return dict(found) if found is not None else None

    def security_group_info_for_devices(self, ctxt: Any,
                                        devices: list[str]) -> dict[str, Any]:
        """``{"security_groups": {group: [rule]}, "sg_member_ips": {group:
        {"IPv4": [...], "IPv6": [...]}}}`` for the groups of ``devices`` (port ids)."""
        return dict(self._call(ctxt, "security_group_info_for_devices",
                               devices=list(devices)))

    def get_tunnel_peers(self, ctxt: Any, host: str) -> list[str]:
        """The tunneling IPs of the other live bridge agents."""
        return [str(ip) for ip in self._call(ctxt, "get_tunnel_peers", host=host)]

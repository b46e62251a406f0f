"""What the network plugin's unit tests build again and again: a member's context, a
network with one IPv4 subnet, a port."""
from __future__ import annotations

from typing import Any

from common import context


def member_ctxt(project: str = "p1") -> Any:
    ctxt = context.RequestContext(project_id=project, roles=["member"], overwrite=False)
    ctxt.is_admin = False
    return ctxt


def net_and_subnet(plugin: Any, ctxt: Any, cidr: str,
                   pools: list[dict[str, str]] | None = None) -> tuple[str, str]:
    """The ids of a new network of ``ctxt``'s project and of its subnet ``cidr``."""
    net = plugin.networks.create(ctxt, {
        "project_id": ctxt.project_id, "name": "n", "admin_state_up": True, "shared": False,
        "router:external": False, "port_security_enabled": True, "mtu": 0})
    sub = plugin.subnets.create(ctxt, {
        "project_id": ctxt.project_id, "network_id": net["id"], "name": "", "ip_version": 4,
        "cidr": cidr, "enable_dhcp": True, "allocation_pools": pools})
    return net["id"], sub["id"]


def create_port(plugin: Any, ctxt: Any, net_id: str, **extra: Any) -> dict[str, Any]:
    body = {"project_id": ctxt.project_id, "network_id": net_id, "name": "",
            "admin_state_up": True}
    body.update(extra)
    return dict(plugin.ports.create(ctxt, body))

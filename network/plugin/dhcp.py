"""What DHCP agents ask the server: the networks they serve, scheduling and DHCP ports.

A network with at least one ``enable_dhcp`` subnet is scheduled to the first DHCP
agent that asks for its networks (one agent per network, the binding table
``networkdhcpagentbindings``); that agent then owns the network's DHCP port
(``device_owner`` ``network:dhcp``, ``device_id`` ``dhcp<host hash>-<network id>``).
"""
from __future__ import annotations

import threading
import uuid
from typing import Any

import sqlalchemy as sa

from network import rpcapi
from network.db import models
from network.plugin import base

AGENT_TYPE = rpcapi.DHCP_AGENT_TYPE
DEVICE_OWNER = "network:dhcp"
ROUTER_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                 "network:ha_router_replicated_interface")


def device_id(host: str, network_id: str) -> str:
    """The DHCP port's ``device_id`` for ``host`` (Neutron's form)."""
    return "dhcp%s-%s" % (uuid.uuid5(uuid.NAMESPACE_DNS, host), network_id)


class Dhcp(base.Component):

    # One DHCP port per (host, network) even when a resync and a notification
    # ask at once (within this server process; several servers could still race).
    _port_lock = threading.Lock()

    def _agent_id(self, host: str) -> str | None:
        with self.db.reader() as s:
            found: str | None = s.scalar(sa.select(models.Agent.id).where(
                models.Agent.agent_type == AGENT_TYPE, models.Agent.host == host))
            return found

    def _schedule(self, agent_id: str) -> list[str]:
        """Bind every unbound network with DHCP subnets to ``agent_id``; its networks."""
        with self.db.reader() as s:
            # Read first: nearly always nothing is unbound, and a writer session
            # would queue behind every API write for nothing.
            wanted, bound = self._wanted_and_bound(s)
            if wanted <= bound:
                return sorted(wanted & self._networks_of(s, agent_id))
        with self.db.writer() as s:
            wanted, bound = self._wanted_and_bound(s)
            for net_id in sorted(wanted - bound):
                s.add(models.NetworkDhcpAgentBinding(network_id=net_id,
                                                     dhcp_agent_id=agent_id))
            s.flush()
            return sorted(wanted & self._networks_of(s, agent_id))

    @staticmethod
    def _wanted_and_bound(s: Any) -> tuple[set[str], set[str]]:
        wanted = set(s.scalars(sa.select(models.Subnet.network_id).where(
            models.Subnet.enable_dhcp.is_(True))))
        return wanted, set(s.scalars(sa.select(models.NetworkDhcpAgentBinding.network_id)))

    @staticmethod
    def _networks_of(s: Any, agent_id: str) -> set[str]:
        return set(s.scalars(sa.select(models.NetworkDhcpAgentBinding.network_id).where(
            models.NetworkDhcpAgentBinding.dhcp_agent_id == agent_id)))

    def networks_of_host(self, host: str) -> list[str]:
        """Networks with DHCP subnets scheduled to the DHCP agent on ``host`` (scheduling
        unbound ones to it)."""
        agent_id = self._agent_id(host)
        return [] if agent_id is None else self._schedule(agent_id)

    def active_networks_info(self, ctxt: Any, host: str) -> list[dict[str, Any]]:
        """Schedule, then describe, the networks the DHCP agent on ``host`` serves.

        An agent that never reported state gets nothing (it cannot be scheduled).
        """
        agent_id = self._agent_id(host)
        if agent_id is None:
            return []
        out = []
        for net_id in self._schedule(agent_id):
            info = self.network_info(ctxt, net_id, host)
            if info is not None:
                out.append(info)
        return out

    def network_info(self, ctxt: Any, network_id: str, host: str) -> dict[str, Any] | None:
        """The network as the DHCP agent needs it, with ``host``'s DHCP port (created
        or given addresses on new DHCP subnets here); None when gone or without DHCP."""
        with self.db.reader() as s:
            net = s.get(models.Network, network_id)
            if net is None:
                return None
            project_id = net.project_id
            mtu = net.mtu
            admin_state_up = net.admin_state_up
        with self.db.reader() as s:
            subnets = [self.core.subnets.to_dict(row, {}) for row in s.scalars(
                sa.select(models.Subnet).where(models.Subnet.network_id == network_id))]
        dhcp_subnets = [sub for sub in subnets if sub["enable_dhcp"]]
        if not dhcp_subnets:
            return None
        with self._port_lock:
            ports = self._ports(ctxt, network_id)
            dhcp_port = self._ensure_port(ctxt, network_id, project_id, host, dhcp_subnets,
                                          ports)
        ports = [p for p in ports if p["id"] != dhcp_port["id"]] + [dhcp_port]
        keys = ("id", "cidr", "gateway_ip", "dns_nameservers", "host_routes",
                "allocation_pools", "ip_version", "enable_dhcp")
        routed = {f["subnet_id"] for p in ports if p["device_owner"] in ROUTER_OWNERS
                  for f in p["fixed_ips"]}
        return {"id": network_id, "project_id": project_id, "mtu": mtu,
                "admin_state_up": admin_state_up,
                # isolated: no router on the subnet, so the DHCP namespace serves metadata.
                "subnets": [dict({k: sub[k] for k in keys}, isolated=sub["id"] not in routed)
                            for sub in subnets],
                "ports": [{k: p[k] for k in ("id", "mac_address", "fixed_ips",
                                             "device_owner", "device_id",
                                             "admin_state_up")} for p in ports],
                "dhcp_port": dhcp_port}

    def _ports(self, ctxt: Any, network_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [self.core.ports.to_dict(row, {}) for row in s.scalars(
                sa.select(models.Port).where(models.Port.network_id == network_id))]

    def _ensure_port(self, ctxt: Any, network_id: str, project_id: str, host: str,
                     dhcp_subnets: list[dict[str, Any]],
                     ports: list[dict[str, Any]]) -> dict[str, Any]:
        dev = device_id(host, network_id)
        mine = [p for p in ports if p["device_id"] == dev and p["device_owner"] == DEVICE_OWNER]
        if not mine:
            return dict(self.core.ports.create(ctxt, {
                "network_id": network_id, "project_id": project_id, "name": "",
                "device_owner": DEVICE_OWNER, "device_id": dev, "admin_state_up": True,
                "fixed_ips": [{"subnet_id": sub["id"]} for sub in dhcp_subnets]}))
        port = mine[0]
        have = {f["subnet_id"] for f in port["fixed_ips"]}
        missing = [sub["id"] for sub in dhcp_subnets if sub["id"] not in have]
        if missing:
            fixed = [dict(f) for f in port["fixed_ips"]] + [{"subnet_id": m} for m in missing]
            port = self.core.ports.update(ctxt, port["id"], {"fixed_ips": fixed})
        return dict(port)

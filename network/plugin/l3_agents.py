"""What L3 agents ask the server: the routers they host, scheduling, statuses, and
the ports the metadata agent identifies instances by.

A router with an external gateway or at least one interface is bound (table
``routerl3agentbindings``, one agent per router) to the least loaded alive L3
agent when an agent asks for its routers; the routers bound to the asking agent
are returned with everything the agent wires: the gateway port, the interface
ports (with their subnets), the floating IPs and the extra routes. The router
ports get ``binding:host_id`` = the agent's host, so the bridge agent there
plugs their ``tap`` devices.
"""
from __future__ import annotations

import threading
from typing import Any

import netaddr
import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.agents.l3 import rpcapi as l3_rpcapi
from network.db import models
from network.plugin import base
from network.plugin import l3
from network.plugin import ports as ports_mod

AGENT_TYPE = l3_rpcapi.L3_AGENT_TYPE
FIP_STATUSES = ("ACTIVE", "DOWN", "ERROR")
PORT_STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")


class L3Agents(base.Component):

    # One binding per router even when several agents ask at once (within this
    # server process; several servers could still race).
    _schedule_lock = threading.Lock()

    # -- scheduling ----------------------------------------------------------------

    def _agent_id(self, s: orm.Session, host: str) -> str | None:
        found: str | None = s.scalar(sa.select(models.Agent.id).where(
            models.Agent.agent_type == AGENT_TYPE, models.Agent.host == host))
        return found

    def _alive_agents(self, s: orm.Session) -> list[str]:
        """Ids of the alive, enabled L3 agents."""
        return [a.id for a in s.scalars(sa.select(models.Agent).where(
            models.Agent.agent_type == AGENT_TYPE, models.Agent.admin_state_up.is_(True)))
            if self.core.agents.to_dict(a)["alive"]]

    def _schedule(self, router_ids: list[str] | None) -> None:
        """Bind every unbound router needing an agent (among ``router_ids``, or all)."""
        with self._schedule_lock, self.db.writer() as s:
            wanted = set(s.scalars(sa.select(models.RouterPort.router_id)))
            if router_ids is not None:
                wanted &= set(router_ids)
            bound = set(s.scalars(sa.select(models.RouterL3AgentBinding.router_id)))
            todo = sorted(wanted - bound)
            if not todo:
                return
            candidates = self._alive_agents(s)
            if not candidates:
                return
            load = {a: 0 for a in candidates}
            for agent_id, count in s.execute(sa.select(
                    models.RouterL3AgentBinding.l3_agent_id, sa.func.count()).group_by(
                    models.RouterL3AgentBinding.l3_agent_id)).all():
                if agent_id in load:
                    load[agent_id] = count
            for router_id in todo:
                agent_id = min(candidates, key=lambda a: (load[a], a))
                s.add(models.RouterL3AgentBinding(router_id=router_id, l3_agent_id=agent_id))
                load[agent_id] += 1

    # -- what the agents ask ---------------------------------------------------------

    def sync_routers(self, ctxt: Any, host: str,
                     router_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Schedule, then describe, the routers the L3 agent on ``host`` hosts
        (only those among ``router_ids`` when given). An agent that never
        reported state gets nothing. The routers' ports are bound to ``host``."""
        with self.db.reader() as s:
            if self._agent_id(s, host) is None:
                return []
        self._schedule(router_ids)
        with self.db.writer() as s:
            agent_id = self._agent_id(s, host)
            query = sa.select(models.Router).join(
                models.RouterL3AgentBinding,
                models.RouterL3AgentBinding.router_id == models.Router.id).where(
                models.RouterL3AgentBinding.l3_agent_id == agent_id)
            if router_ids is not None:
                query = query.where(models.Router.id.in_(router_ids))
            return [self._router_info(s, row, host) for row in s.scalars(query)]

    def _router_info(self, s: orm.Session, row: models.Router, host: str) -> dict[str, Any]:
        gw = s.get(models.Port, row.gw_port_id) if row.gw_port_id else None
        interfaces = list(s.scalars(sa.select(models.Port).join(
            models.RouterPort, models.RouterPort.port_id == models.Port.id).where(
            models.RouterPort.router_id == row.id, models.RouterPort.port_type == l3.RI)
            .order_by(models.Port.id)))
        for port in ([gw] if gw is not None else []) + interfaces:
            if port.binding is None or port.binding.host != host:
                ports_mod.Ports._set_binding(port, {"binding:host_id": host})
        fips = [{"id": f.id, "floating_ip_address": f.floating_ip_address,
                 "fixed_ip_address": f.fixed_ip_address, "port_id": f.fixed_port_id,
                 "status": f.status}
                for f in s.scalars(sa.select(models.FloatingIP).where(
                    models.FloatingIP.router_id == row.id,
                    models.FloatingIP.fixed_ip_address.is_not(None))
                    .order_by(models.FloatingIP.id))]
        return {"id": row.id, "name": row.name, "project_id": row.project_id,
                "admin_state_up": row.admin_state_up, "status": row.status,
                "enable_snat": row.enable_snat,
                "routes": [{"destination": r.destination, "nexthop": r.nexthop}
                           for r in row.routes],
                "gw_port": self._port_info(s, gw) if gw is not None else None,
                "_interfaces": [self._port_info(s, p) for p in interfaces],
                "_floatingips": fips}

    @staticmethod
    def _port_info(s: orm.Session, port: models.Port) -> dict[str, Any]:
        subnets = {}
        fixed = []
        for alloc in sorted(port.fixed_ips, key=lambda f: f.ip_address):
            sub = s.get(models.Subnet, alloc.subnet_id)
            if sub is None:
                continue
            subnets[sub.id] = {"id": sub.id, "cidr": sub.cidr, "gateway_ip": sub.gateway_ip,
                               "ip_version": sub.ip_version}
            fixed.append({"subnet_id": sub.id, "ip_address": alloc.ip_address,
                          "prefixlen": netaddr.IPNetwork(sub.cidr).prefixlen})
        network = s.get(models.Network, port.network_id)
        return {"id": port.id, "network_id": port.network_id, "mac_address": port.mac_address,
                "admin_state_up": port.admin_state_up, "status": port.status,
                "device_owner": port.device_owner, "fixed_ips": fixed,
                "subnets": list(subnets.values()),
                "mtu": network.mtu if network is not None else None}

    def update_floatingip_statuses(self, ctxt: Any, router_id: str,
                                   statuses: dict[str, str]) -> None:
        """Record what the agent made of the router's floating IPs; a floating IP
        since moved to another router (or deleted) is left alone, except that
        DOWN is recorded on an unassociated one. :raises: InvalidInput."""
        bad = sorted(v for v in statuses.values() if v not in FIP_STATUSES)
        if bad:
            raise exception.InvalidInput(error_message="invalid floating IP status %s"
                                         % bad[0])
        with self.db.writer() as s:
            for fip_id, status in sorted(statuses.items()):
                row = s.get(models.FloatingIP, fip_id)
                if row is None:
                    continue
                mine = row.router_id == router_id or (row.router_id is None
                                                      and status == "DOWN")
                if mine and row.status != status:
                    row.status = status
                    base.touch(row)

    def update_router_ports_status(self, ctxt: Any, router_id: str, port_ids: list[str],
                                   status: str) -> None:
        """Set the status of those of ``port_ids`` that are ports of ``router_id``.
        :raises: InvalidInput."""
        if status not in PORT_STATUSES:
            raise exception.InvalidInput(error_message="invalid port status %s" % status)
        with self.db.writer() as s:
            mine = set(s.scalars(sa.select(models.RouterPort.port_id).where(
                models.RouterPort.router_id == router_id)))
            for port_id in sorted(set(port_ids) & mine):
                row = s.get(models.Port, port_id)
                if row is not None and row.status != status:
                    row.status = status
                    base.touch(row)

    def get_ports_for_metadata(self, ctxt: Any, ip_address: str,
                               router_id: str | None = None,
                               network_id: str | None = None) -> list[dict[str, Any]]:
        """Ports with ``ip_address`` on the networks of ``router_id``'s interfaces
        (or on ``network_id``): what the metadata agent identifies an instance by."""
        with self.db.reader() as s:
            if router_id:
                networks = set(s.scalars(sa.select(models.Port.network_id).join(
                    models.RouterPort, models.RouterPort.port_id == models.Port.id).where(
                    models.RouterPort.router_id == router_id,
                    models.RouterPort.port_type == l3.RI)))
            elif network_id:
                networks = {network_id}
            else:
                return []
            if not networks:
                return []
            rows = s.scalars(sa.select(models.Port).join(
                models.IPAllocation, models.IPAllocation.port_id == models.Port.id).where(
                models.IPAllocation.ip_address == ip_address,
                models.IPAllocation.network_id.in_(sorted(networks))).order_by(models.Port.id))
            return [{"id": p.id, "network_id": p.network_id, "device_id": p.device_id,
                     "device_owner": p.device_owner, "project_id": p.project_id,
                     "mac_address": p.mac_address} for p in rows]

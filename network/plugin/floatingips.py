"""Floating IPs: addresses on an external network, associated with a port
behind a router that has its gateway on that network."""
from __future__ import annotations

from typing import Any

import netaddr
import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.db import models
from network.plugin import base
from network.plugin import l3


class FloatingIPs(base.Readable):

    model = models.FloatingIP

    def not_found(self, obj_id: str) -> Exception:
        return exception.FloatingIPNotFound(floatingip_id=obj_id)

    def to_dict(self, row: models.FloatingIP, tags: dict[str, list[str]]) -> dict[str, Any]:
        out = {"id": row.id, "floating_ip_address": row.floating_ip_address,
               "floating_network_id": row.floating_network_id, "router_id": row.router_id,
               "port_id": row.fixed_port_id, "fixed_ip_address": row.fixed_ip_address,
               "status": row.status}
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.FloatingIP)
        if not base.is_admin(ctxt):
            query = query.where(models.FloatingIP.project_id == base.project_of(ctxt))
        return query

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            network = s.get(models.Network, body["floating_network_id"])
            if network is None:
                raise exception.NetworkNotFound(net_id=body["floating_network_id"])
            if not network.external:
                raise exception.BadRequest(
                    resource="floatingip", msg="Network %s is not a valid external network"
                    % network.id)
            base.check_quota(self.conf, s, "floatingip", body["project_id"])
            fip_id = base.new_id()
            fixed: dict[str, Any] = {}
            if body.get("subnet_id"):
                fixed["subnet_id"] = body["subnet_id"]
            if body.get("floating_ip_address"):
                fixed["ip_address"] = body["floating_ip_address"]
            if not fixed:
                v4 = [sub for sub in network.subnets if sub.ip_version == 4]
                if not v4:
                    raise exception.BadRequest(
                        resource="floatingip",
                        msg="Network %s does not contain any IPv4 subnet" % network.id)
                requested: list[dict[str, Any]] | None = None
            else:
                requested = [fixed]
            port = self.core.ports.create_in(
                s, ctxt, {"network_id": network.id, "device_owner": l3.FIP,
                          "device_id": fip_id, "project_id": "", "fixed_ips": requested,
                          "port_security_enabled": False}, attempt, network=network)
            v4_ips = [f.ip_address for f in port.fixed_ips
                      if netaddr.IPAddress(f.ip_address).version == 4]
            if not v4_ips:
                raise exception.BadRequest(resource="floatingip",
                                           msg="No IPv4 address could be allocated")
            row = models.FloatingIP(id=fip_id, project_id=body["project_id"],
                                    floating_ip_address=v4_ips[0],
                                    floating_network_id=network.id,
                                    floating_port_id=port.id, status="DOWN")
            base.init_standard(row, body)
            s.add(row)
            s.flush()
            if body.get("port_id"):
                self._associate(s, ctxt, row, body["port_id"], body.get("fixed_ip_address"))
            s.flush()
            return self.to_dict(row, {})

    def _associate(self, s: orm.Session, ctxt: Any, row: models.FloatingIP,
                   port_id: str | None, fixed_ip: str | None) -> None:
        if port_id is None:
            row.fixed_port_id = row.fixed_ip_address = row.router_id = None
            row.status = "DOWN"
            return
        port = self.core.ports.get_row(s, ctxt, port_id)
        if port.project_id != row.project_id and not base.is_admin(ctxt):
            raise exception.PortNotFound(port_id=port_id)
        v4 = [f for f in port.fixed_ips if netaddr.IPAddress(f.ip_address).version == 4]
        if fixed_ip is not None:
            chosen = [f for f in port.fixed_ips if f.ip_address == fixed_ip]
            if not chosen:
                raise exception.BadRequest(
                    resource="floatingip", msg="Port %s does not have fixed ip %s"
                    % (port_id, fixed_ip))
        else:
            if not v4:
                raise exception.BadRequest(
                    resource="floatingip", msg="Port %s does not have any IPv4 address, "
                                               "which is required by floating IP" % port_id)
            chosen = v4[:1]
        alloc = chosen[0]
        router_id = self._router_for(s, row.floating_network_id, alloc.subnet_id)
        if router_id is None:
            raise exception.ExternalGatewayForFloatingIPNotFound(
                external_network_id=row.floating_network_id, subnet_id=alloc.subnet_id,
                port_id=port_id)
        clash = s.scalar(sa.select(models.FloatingIP).where(
            models.FloatingIP.fixed_port_id == port_id,
            models.FloatingIP.fixed_ip_address == alloc.ip_address,
            models.FloatingIP.floating_network_id == row.floating_network_id,
            models.FloatingIP.id != row.id))
        if clash is not None:
            raise exception.FloatingIPPortAlreadyAssociated(
                floating_ip_address=clash.floating_ip_address, fip_id=clash.id,
                port_id=port_id, fixed_ip=alloc.ip_address, net_id=row.floating_network_id)
        row.fixed_port_id = port_id
        row.fixed_ip_address = alloc.ip_address
        row.router_id = router_id
        # DOWN until the L3 agent hosting the router has wired it (it reports ACTIVE).
        row.status = "DOWN"

    @staticmethod
    def _router_for(s: orm.Session, external_net: str, subnet_id: str) -> str | None:
        """A router with its gateway on ``external_net`` and an interface on ``subnet_id``."""
        candidates = s.scalars(
            sa.select(models.RouterPort.router_id)
            .join(models.Port, models.Port.id == models.RouterPort.port_id)
            .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
            .where(models.RouterPort.port_type == l3.RI,
                   models.IPAllocation.subnet_id == subnet_id))
        for router_id in candidates:
            router = s.get(models.Router, router_id)
            if router is None or not router.gw_port_id:
                continue
            gw = s.get(models.Port, router.gw_port_id)
            if gw is not None and gw.network_id == external_net:
                return router_id
        return None

    def update(self, ctxt: Any, fip_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, fip_id)
            if "description" in body:
                row.description = body["description"]
            if "port_id" in body:
                self._associate(s, ctxt, row, body["port_id"], body.get("fixed_ip_address"))
            elif body.get("fixed_ip_address") and row.fixed_port_id:
                self._associate(s, ctxt, row, row.fixed_port_id, body["fixed_ip_address"])
            base.touch(row)
            s.flush()
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, fip_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, fip_id)
            port = s.get(models.Port, row.floating_port_id)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == fip_id))
            s.delete(row)
            s.flush()
            if port is not None:
                self.core.ports.delete_in(s, port)

"""Routers (interfaces, external gateway with SNAT, extra routes) and floating IPs."""
from __future__ import annotations

from typing import Any

import netaddr
import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.db import models
from network.plugin import base

RI = "network:router_interface"
GW = "network:router_gateway"
FIP = "network:floatingip"


class Routers(base.Readable):

    model = models.Router

    def not_found(self, obj_id: str) -> Exception:
        return exception.RouterNotFound(router_id=obj_id)

    def render(self, s: orm.Session, row: Any, tags: dict[str, list[str]]) -> dict[str, Any]:
        return self.to_dict(s, row, tags)

    def to_dict(self, s: orm.Session, row: models.Router,
                tags: dict[str, list[str]]) -> dict[str, Any]:
        gw_info = None
        if row.gw_port_id:
            port = s.get(models.Port, row.gw_port_id)
            if port is not None:
                gw_info = {"network_id": port.network_id, "enable_snat": row.enable_snat,
                           "external_fixed_ips": [
                               {"subnet_id": f.subnet_id, "ip_address": f.ip_address}
                               for f in port.fixed_ips]}
        out = {"id": row.id, "name": row.name, "admin_state_up": row.admin_state_up,
               "status": row.status, "external_gateway_info": gw_info,
               "routes": [{"destination": r.destination, "nexthop": r.nexthop}
                          for r in row.routes]}
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.Router)
        if not base.is_admin(ctxt):
            query = query.where(models.Router.project_id == base.project_of(ctxt))
        return query

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            base.check_quota(self.conf, s, "router", body["project_id"])
            row = models.Router(id=base.new_id(), project_id=body["project_id"],
                                name=body["name"], admin_state_up=body["admin_state_up"],
                                status="ACTIVE", enable_snat=True)
            base.init_standard(row, body)
            s.add(row)
            s.flush()
            if body.get("external_gateway_info"):
                self._set_gateway(s, ctxt, row, body["external_gateway_info"], attempt)
            s.flush()
            return self.to_dict(s, row, {})

    def _set_gateway(self, s: orm.Session, ctxt: Any, row: models.Router,
                     info: dict[str, Any] | None, attempt: int) -> None:
        old = s.get(models.Port, row.gw_port_id) if row.gw_port_id else None
        if not info:
            if old is not None:
                self._check_no_fips(s, row)
                row.gw_port_id = None
                s.flush()
                self.core.ports.delete_in(s, old)
            row.enable_snat = True
            return
        if old is not None and old.network_id == info["network_id"] and \
                "external_fixed_ips" not in info:
            row.enable_snat = self._snat(info)
            return
        network = s.get(models.Network, info["network_id"])
        if network is None:
            raise exception.NetworkNotFound(net_id=info["network_id"])
        if not network.external:
            raise exception.BadRequest(resource="router",
                                       msg="Network %s is not an external network"
                                       % network.id)
        if old is not None:
            if old.network_id != network.id:
                self._check_no_fips(s, row)
            row.gw_port_id = None
            s.flush()
            self.core.ports.delete_in(s, old)
        port = self.core.ports.create_in(
            s, ctxt, {"network_id": network.id, "device_owner": GW, "device_id": row.id,
                      "project_id": "", "fixed_ips": info.get("external_fixed_ips") or None,
                      "port_security_enabled": False},
            attempt, network=network)
        if not port.fixed_ips:
            raise exception.BadRequest(resource="router",
                                       msg="No subnets on external network %s" % network.id)
        s.add(models.RouterPort(router_id=row.id, port_id=port.id, port_type=GW))
        row.gw_port_id = port.id
        row.enable_snat = self._snat(info)

    @staticmethod
    def _snat(info: dict[str, Any]) -> bool:
        value = info.get("enable_snat", True)
        return bool(value if isinstance(value, bool) else str(value).lower() == "true")

    @staticmethod
    def _check_no_fips(s: orm.Session, row: models.Router) -> None:
        if s.scalar(sa.select(models.FloatingIP.id).where(
                models.FloatingIP.router_id == row.id).limit(1)):
            raise exception.RouterInUse(router_id=row.id,
                                        reason="has floating IPs on its gateway network")

    @base.retry_db
    def update(self, ctxt: Any, router_id: str, body: dict[str, Any],
               attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, router_id)
            for key in ("name", "description", "admin_state_up"):
                if key in body:
                    setattr(row, key, body[key])
            if "external_gateway_info" in body:
                self._set_gateway(s, ctxt, row, body["external_gateway_info"], attempt)
            if "routes" in body:
                self._set_routes(s, row, body["routes"])
            base.touch(row)
            s.flush()
            return self.to_dict(s, row, base.load_tags(s, [row.id]))

    def _set_routes(self, s: orm.Session, row: models.Router,
                    routes: list[dict[str, str]]) -> None:
        cidrs = [netaddr.IPNetwork(sub.cidr) for sub in self._subnets(s, row)]
        for route in routes:
            hop = netaddr.IPAddress(route["nexthop"])
            if not any(hop in cidr for cidr in cidrs):
                raise exception.InvalidInput(
                    error_message="Invalid format for routes: %s, the nexthop is not "
                                  "connected with router" % route)
        row.routes = [models.RouterRoute(destination=r["destination"], nexthop=r["nexthop"])
                      for r in {(r["destination"], r["nexthop"]): r for r in routes}.values()]

    def _interface_ports(self, s: orm.Session, row: models.Router) -> list[models.Port]:
        return list(s.scalars(sa.select(models.Port).join(
            models.RouterPort, models.RouterPort.port_id == models.Port.id).where(
                models.RouterPort.router_id == row.id, models.RouterPort.port_type == RI)))

    def _subnets(self, s: orm.Session, row: models.Router) -> list[models.Subnet]:
        ids = {f.subnet_id for p in self._interface_ports(s, row) for f in p.fixed_ips}
        if row.gw_port_id:
            gw = s.get(models.Port, row.gw_port_id)
            ids |= {f.subnet_id for f in gw.fixed_ips} if gw else set()
        return [sub for sub in (s.get(models.Subnet, i) for i in ids) if sub is not None]

    def delete(self, ctxt: Any, router_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, router_id)
            if self._interface_ports(s, row):
                raise exception.RouterInUse(router_id=router_id,
                                            reason="still has ports")
            self._set_gateway(s, ctxt, row, None, 0)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == router_id))
            s.delete(row)

    # -- interfaces ------------------------------------------------------------------

    def _info(self, row: models.Router, port: models.Port) -> dict[str, Any]:
        subnets = [f.subnet_id for f in port.fixed_ips]
        return {"id": row.id, "tenant_id": row.project_id, "project_id": row.project_id,
                "port_id": port.id, "network_id": port.network_id,
                "subnet_id": subnets[0] if subnets else None, "subnet_ids": subnets}

    def _check_overlap(self, s: orm.Session, row: models.Router,
                       new: list[models.Subnet]) -> None:
        existing = [sub for sub in self._subnets(s, row)
                    if row.gw_port_id is None or sub.network_id != s.get(
                        models.Port, row.gw_port_id).network_id]  # type: ignore[union-attr]
        for sub in new:
            for other in existing:
                if other.id == sub.id:
                    raise exception.BadRequest(
                        resource="router", msg="Router already has a port on subnet %s"
                        % sub.id)
                one, two = netaddr.IPNetwork(sub.cidr), netaddr.IPNetwork(other.cidr)
                if one.version == two.version and (one in two or two in one):
                    raise exception.BadRequest(
                        resource="router",
                        msg="Cidr %s of subnet %s overlaps with cidr %s of subnet %s"
                        % (sub.cidr, sub.id, other.cidr, other.id))

    @base.retry_db
    def add_interface(self, ctxt: Any, router_id: str, body: dict[str, Any],
                      attempt: int = 0) -> dict[str, Any]:
        if not isinstance(body, dict) or bool(body.get("port_id")) == bool(
                body.get("subnet_id")):
            raise exception.BadRequest(resource="router",
                                       msg="Either subnet_id or port_id must be specified")
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, router_id)
            if body.get("port_id"):
                port = self.core.ports.get_row(s, ctxt, body["port_id"])
                if port.device_id or port.device_owner:
                    raise exception.PortInUse(port_id=port.id, net_id=port.network_id,
                                              device_id=port.device_id)
                if not port.fixed_ips:
                    raise exception.BadRequest(resource="router",
                                               msg="Router port must have at least one "
                                                   "fixed IP")
                subnets = [s.get(models.Subnet, f.subnet_id) for f in port.fixed_ips]
                self._check_overlap(s, row, [x for x in subnets if x is not None])
                port.device_id, port.device_owner = row.id, RI
            else:
                subnet = self.core.subnets.get_row(s, ctxt, body["subnet_id"])
                if not subnet.gateway_ip:
                    raise exception.BadRequest(
                        resource="router",
                        msg="Subnet for router interface must have a gateway IP")
                self._check_overlap(s, row, [subnet])
                network = s.get(models.Network, subnet.network_id)
                port = self.core.ports.create_in(
                    s, ctxt, {"network_id": subnet.network_id, "device_owner": RI,
                              "device_id": row.id, "project_id": row.project_id,
                              "fixed_ips": [{"subnet_id": subnet.id,
                                             "ip_address": subnet.gateway_ip}],
                              "port_security_enabled": False},
                    attempt, network=network)
            # DOWN (as created) until the L3 agent has made its device and the bridge
            # agent plugged it (clients, Tempest among them, wait for ACTIVE).
            s.add(models.RouterPort(router_id=row.id, port_id=port.id, port_type=RI))
            base.touch(row)
            s.flush()
            return self._info(row, port)

    def remove_interface(self, ctxt: Any, router_id: str,
                         body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict) or not (body.get("port_id") or body.get("subnet_id")):
            raise exception.BadRequest(resource="router",
                                       msg="Either subnet_id or port_id must be specified")
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, router_id)
            ports = self._interface_ports(s, row)
            if body.get("port_id"):
                found = [p for p in ports if p.id == body["port_id"]]
                if not found:
                    raise exception.RouterInterfaceNotFound(router_id=row.id,
                                                            port_id=body["port_id"])
                if body.get("subnet_id") and body["subnet_id"] not in [
                        f.subnet_id for f in found[0].fixed_ips]:
                    raise exception.SubnetNotFound(subnet_id=body["subnet_id"])
            else:
                found = [p for p in ports
                         if body["subnet_id"] in [f.subnet_id for f in p.fixed_ips]]
                if not found:
                    self.core.subnets.get_row(s, ctxt, body["subnet_id"])
                    raise exception.RouterInterfaceNotFoundForSubnet(
                        router_id=row.id, subnet_id=body["subnet_id"])
            port = found[0]
            info = self._info(row, port)
            self._check_fips_need(s, row, port)
            self.core.ports.delete_in(s, port)
            base.touch(row)
            return info

    @staticmethod
    def _check_fips_need(s: orm.Session, row: models.Router, port: models.Port) -> None:
        subnets = {f.subnet_id for f in port.fixed_ips}
        for fip in s.scalars(sa.select(models.FloatingIP).where(
                models.FloatingIP.router_id == row.id)):
            fixed = s.get(models.Port, fip.fixed_port_id) if fip.fixed_port_id else None
            if fixed is not None and subnets & {f.subnet_id for f in fixed.fixed_ips}:
                raise exception.RouterInterfaceInUseByFloatingIP(
                    subnet_id=sorted(subnets)[0], router_id=row.id)

"""Ports: MAC generation, fixed IPs through IPAM, bindings, security groups,
allowed address pairs, extra DHCP options."""
from __future__ import annotations

import json
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.db import models
from network.plugin import base
from network.plugin import ipam

VIF_TYPE = "bridge"


def generate_mac(base_mac: str) -> str:
    """The fixed octets of ``base_mac`` (Neutron's rule: the first three, and a
    fourth when it is not zero), random others."""
    octets = [int(x, 16) for x in base_mac.split(":")]
    fixed = 4 if octets[3] != 0 else 3
    out = octets[:fixed] + [random.randint(0, 255) for _ in range(6 - fixed)]
    return ":".join("%02x" % o for o in out)


def network_owned(owner: str) -> bool:
    return owner.startswith("network:")


class Ports(base.Readable):

    pushdown = ("id", "name", "project_id", "network_id", "device_id", "device_owner",
                "status")

    model = models.Port

    def not_found(self, obj_id: str) -> Exception:
        return exception.PortNotFound(port_id=obj_id)

    def to_dict(self, row: models.Port, tags: dict[str, list[str]]) -> dict[str, Any]:
        binding = row.binding
        host = binding.host if binding else ""
        out = {
            "id": row.id, "name": row.name, "network_id": row.network_id,
            "mac_address": row.mac_address, "admin_state_up": row.admin_state_up,
            "status": row.status, "device_id": row.device_id,
            "device_owner": row.device_owner,
            "fixed_ips": [{"subnet_id": f.subnet_id, "ip_address": f.ip_address}
                          for f in sorted(row.fixed_ips, key=lambda f: f.ip_address)],
            "security_groups": sorted(b.security_group_id for b in row.security_groups),
            "port_security_enabled": row.port_security_enabled,
            "allowed_address_pairs": [{"ip_address": p.ip_address,
                                       "mac_address": p.mac_address}
                                      for p in row.allowed_address_pairs],
            "extra_dhcp_opts": [{"opt_name": o.opt_name, "opt_value": o.opt_value,
                                 "ip_version": o.ip_version} for o in row.extra_dhcp_opts],
            "binding:host_id": host,
            "binding:vif_type": binding.vif_type if binding else "unbound",
            "binding:vif_details": json.loads(binding.vif_details) if binding else {},
            "binding:profile": json.loads(binding.profile) if binding else {},
            "binding:vnic_type": binding.vnic_type if binding else "normal",
        }
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.Port)
        if not base.is_admin(ctxt):
            query = query.join(models.Network).where(sa.or_(
                models.Port.project_id == base.project_of(ctxt),
                models.Network.project_id == base.project_of(ctxt)))
        return query

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.create_in(s, ctxt, body, attempt)
            return self.to_dict(row, {})

    def create_in(self, s: orm.Session, ctxt: Any, body: dict[str, Any],
                  attempt: int = 0, network: models.Network | None = None) -> models.Port:
        """Create a port inside session ``s`` (routers and floating IPs use this too)."""
        if network is None:
            network = self._network_for_ipam(s, ctxt, body["network_id"])
        project = body.get("project_id", "")
        base.check_quota(self.conf, s, "port", project)
        mac = body.get("mac_address")
        if mac is None:
            # A collision (1 in 16 million per port) fails the insert on the unique
            # (network, MAC) key; retry_db then draws another.
            mac = generate_mac(self.conf.base_mac)
        else:
            mac = mac.lower().replace("-", ":")
            if s.scalar(sa.select(models.Port.id).where(
                    models.Port.network_id == network.id, models.Port.mac_address == mac)):
                raise exception.MacAddressInUse(net_id=network.id, mac=mac)
        owner = body.get("device_owner") or ""
        port_security = body.get("port_security_enabled")
        if port_security is None:
            port_security = network.port_security_enabled
        # Everything is attached before the one flush: no reloads afterwards.
        row = models.Port(id=base.new_id(), project_id=project, network_id=network.id,
                          name=body.get("name") or "", mac_address=mac,
                          admin_state_up=body.get("admin_state_up", True), status="DOWN",
                          device_id=body.get("device_id") or "", device_owner=owner,
                          port_security_enabled=port_security, security_groups=[],
                          allowed_address_pairs=[], extra_dhcp_opts=[])
        base.init_standard(row, body)
        fixed = body.get("fixed_ips")
        ips = ipam.allocate(s, network, fixed if fixed else None, mac, attempt)
        row.fixed_ips = [models.IPAllocation(port_id=row.id, network_id=network.id,
                                             subnet_id=i["subnet_id"],
                                             ip_address=i["ip_address"]) for i in ips]
        self._set_security(s, ctxt, row, body, create=True)
        self._set_pairs_and_opts(row, body)
        self._set_binding(row, body)
        s.add(row)
        s.flush()
        return row

    def _network_for_ipam(self, s: orm.Session, ctxt: Any, net_id: str) -> models.Network:
        """The network with its subnets and their pools, in two statements (the hot path
        of port creation); what IPAM does not need loads lazily."""
        row = s.scalar(self.core.networks.visible_query(ctxt).where(
            models.Network.id == net_id).options(orm.lazyload("*")))
        if row is None:
            raise exception.NetworkNotFound(net_id=net_id)
        subnets = list(s.scalars(sa.select(models.Subnet).where(
            models.Subnet.network_id == net_id).options(
            orm.joinedload(models.Subnet.allocation_pools), orm.lazyload("*")).execution_options(
            populate_existing=False)).unique())
        orm.attributes.set_committed_value(row, "subnets", subnets)
        return row

    def _set_security(self, s: orm.Session, ctxt: Any, row: models.Port,
                      body: dict[str, Any], create: bool) -> None:
        groups = body.get("security_groups")
        if create and groups is None and row.port_security_enabled and \
                not network_owned(row.device_owner) and row.project_id:
            default = self.core.security_groups.ensure_default(s, row.project_id)
            row.security_groups = [models.SecurityGroupPortBinding(security_group_id=default)]
            return
        if groups is None:
            if "port_security_enabled" in body and not row.port_security_enabled and \
                    row.security_groups and "security_groups" not in body:
                raise exception.InvalidInput(
                    error_message="Port has security group associated. Cannot disable port "
                                  "security or IP address until security group is removed")
            return
        if groups and not row.port_security_enabled:
            raise exception.InvalidInput(
                error_message="Port security must be enabled and port must have an IP "
                              "address in order to use security groups.")
        for group_id in groups:
            self.core.security_groups.get_row(s, ctxt, group_id, for_project=row.project_id)
        row.security_groups = [models.SecurityGroupPortBinding(security_group_id=g)
                               for g in dict.fromkeys(groups)]

    @staticmethod
    def _set_pairs_and_opts(row: models.Port, body: dict[str, Any]) -> None:
        pairs = body.get("allowed_address_pairs")
        if pairs is not None:
            if pairs and not row.port_security_enabled:
                raise exception.InvalidInput(
                    error_message="Port Security must be enabled in order to have allowed "
                                  "address pairs on a port.")
            seen = set()
            new = []
            for pair in pairs:
                key = (pair.get("mac_address") or row.mac_address, pair["ip_address"])
                if key in seen:
                    raise exception.InvalidInput(error_message="Duplicate address pair")
                seen.add(key)
                new.append(models.AllowedAddressPair(mac_address=key[0].lower(),
                                                     ip_address=key[1]))
            row.allowed_address_pairs = new
        opts = body.get("extra_dhcp_opts")
        if opts is not None:
            current = {(o.opt_name, o.ip_version): o for o in row.extra_dhcp_opts}
            for opt in opts:
                key = (opt["opt_name"], int(opt.get("ip_version", 4)))
                if opt.get("opt_value") is None:
                    current.pop(key, None)
                else:
                    current[key] = models.ExtraDhcpOpt(opt_name=key[0], ip_version=key[1],
                                                       opt_value=opt["opt_value"])
            row.extra_dhcp_opts = list(current.values())

    @staticmethod
    def _set_binding(row: models.Port, body: dict[str, Any]) -> None:
        keys = ("binding:host_id", "binding:profile", "binding:vnic_type")
        if not any(k in body for k in keys):
            return  # no row until bound: to_dict shows an unbound port's defaults
        if row.binding is None:
            row.binding = models.PortBinding(port_id=row.id, host="", vif_type="unbound",
                                             vif_details="{}", profile="{}",
                                             vnic_type="normal")
        binding = row.binding
        if "binding:host_id" in body:
            binding.host = body["binding:host_id"] or ""
        if "binding:profile" in body:
            binding.profile = json.dumps(body["binding:profile"] or {})
        if "binding:vnic_type" in body:
            binding.vnic_type = body["binding:vnic_type"]
        if binding.host:
            binding.vif_type = VIF_TYPE
            binding.vif_details = json.dumps({"connectivity": "l2", "port_filter": True,
                                              "bridge_name": "brq" + row.network_id[:11]})
        else:
            binding.vif_type = "unbound"
            binding.vif_details = "{}"

    @base.retry_db
    def update(self, ctxt: Any, port_id: str, body: dict[str, Any],
               attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, port_id)
            for key in ("name", "description", "admin_state_up", "device_id",
                        "device_owner", "port_security_enabled"):
                if key in body:
                    setattr(row, key, body[key])
            if body.get("mac_address") and body["mac_address"].lower() != row.mac_address:
                if row.binding is not None and row.binding.host:
                    raise exception.PortInUse(port_id=row.id, net_id=row.network_id,
                                              device_id=row.device_id)
                mac = body["mac_address"].lower()
                if s.scalar(sa.select(models.Port.id).where(
                        models.Port.network_id == row.network_id,
                        models.Port.mac_address == mac)):
                    raise exception.MacAddressInUse(net_id=row.network_id, mac=mac)
                row.mac_address = mac
            if "fixed_ips" in body:
                network = s.get(models.Network, row.network_id)
                assert network is not None
                keep = [{"subnet_id": f.subnet_id, "ip_address": f.ip_address}
                        for f in row.fixed_ips]
                ips = ipam.allocate(s, network, body["fixed_ips"], row.mac_address,
                                    attempt, keep=keep)
                wanted = {(i["subnet_id"], i["ip_address"]) for i in ips}
                for alloc in list(row.fixed_ips):
                    if (alloc.subnet_id, alloc.ip_address) not in wanted:
                        row.fixed_ips.remove(alloc)
                        ipam.released(alloc.subnet_id, alloc.ip_address)
                s.flush()
                have = {(f.subnet_id, f.ip_address) for f in row.fixed_ips}
                ipam.store(s, row.id, row.network_id,
                           [i for i in ips if (i["subnet_id"], i["ip_address"]) not in have])
            self._set_security(s, ctxt, row, body, create=False)
            if "port_security_enabled" in body and not row.port_security_enabled and \
                    row.allowed_address_pairs and not body.get("allowed_address_pairs") == []:
                raise exception.InvalidInput(
                    error_message="Port has allowed address pairs; cannot disable port "
                                  "security")
            self._set_pairs_and_opts(row, body)
            self._set_binding(row, body)
            base.touch(row)
            s.flush()
            s.refresh(row)
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, port_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, port_id)
            if row.device_owner == "network:router_interface" and \
                    s.scalar(sa.select(models.RouterPort.router_id).where(
                        models.RouterPort.port_id == port_id)):
                raise exception.PortInUse(port_id=port_id, net_id=row.network_id,
                                          device_id=row.device_id)
            self.delete_in(s, row)

    def delete_in(self, s: orm.Session, row: models.Port) -> None:
        """Delete a port (its addresses return to the pools with it)."""
        for fip in s.scalars(sa.select(models.FloatingIP).where(
                models.FloatingIP.fixed_port_id == row.id)):
            fip.fixed_port_id = None
            fip.fixed_ip_address = None
            fip.router_id = None
            fip.status = "DOWN"
        s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == row.id))
        for alloc in row.fixed_ips:
            ipam.released(alloc.subnet_id, alloc.ip_address)
        s.delete(row)
        s.flush()

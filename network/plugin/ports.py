"""Ports: MAC generation, fixed IPs through IPAM, bindings, security groups,
allowed address pairs, extra DHCP options."""
from __future__ import annotations

import json
import random
from typing import Any, Callable

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


# The API's port writes, as SQL built once (no ORM unit of work under the write lock).
_PORTS = base.Table(models.Port)
_BINDINGS = base.Table(models.PortBinding)
_CHILDREN = ((base.Table(models.IPAllocation), "fixed_ips"),
             (base.Table(models.SecurityGroupPortBinding), "security_groups"),
             (base.Table(models.AllowedAddressPair), "allowed_address_pairs"),
             (base.Table(models.ExtraDhcpOpt), "extra_dhcp_opts"))
_PORT_ID: sa.BindParameter[str] = sa.bindparam("port_id")
_PORT_IPS = sa.select(models.IPAllocation.subnet_id, models.IPAllocation.ip_address).where(
    models.IPAllocation.port_id == _PORT_ID)
_DISASSOCIATE = sa.update(models.FloatingIP).where(
    models.FloatingIP.fixed_port_id == _PORT_ID).values(
    fixed_port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
_DELETE_TAGS = sa.delete(models.Tag).where(models.Tag.resource_id == _PORT_ID)
_ROUTER_OF = sa.select(models.RouterPort.router_id).where(models.RouterPort.port_id == _PORT_ID)
# A router's interface is removed through the router, never deleted as a port.
_DELETE_PORT = sa.delete(models.Port).where(
    models.Port.id == _PORT_ID,
    sa.not_(sa.and_(models.Port.device_owner == "network:router_interface",
                    _ROUTER_OF.exists())))


def _insert(conn: sa.Connection, row: models.Port) -> None:
    """Insert the new port ``row`` with its addresses, groups, pairs, options, binding."""
    _PORTS.insert(conn, [row])
    for table, attr in _CHILDREN:
        table.insert(conn, getattr(row, attr))
    if row.binding is not None:
        _BINDINGS.insert(conn, [row.binding])


class _Rows:
    """A port's rows as read, to write back only what a change made differ."""

    def __init__(self, row: models.Port) -> None:
        self.port = _PORTS.values(row)
        self.children = {attr: [table.values(obj) for obj in getattr(row, attr)]
                         for table, attr in _CHILDREN}
        self.binding = _BINDINGS.values(row.binding) if row.binding is not None else None

    def write(self, conn: sa.Connection, row: models.Port) -> None:
        """:raises: ResourceChanged when the port's revision is no longer the one read
            (or the port is gone)."""
        if _PORTS.update(conn, self.port, row,
                         revision_number=self.port["revision_number"]) != 1:
            raise exception.ResourceChanged(resource="port", id=row.id)
        for table, attr in _CHILDREN:
            table.sync(conn, self.children[attr], getattr(row, attr))
        if row.binding is not None:
            if self.binding is None:
                _BINDINGS.insert(conn, [row.binding])
            else:
                _BINDINGS.update(conn, self.binding, row.binding)


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
        """Create a port for the API.

        What only reads runs before the write lock, in a reader session: the network
        with its subnets, the quota limit, the security groups, a free address (held
        in flight for this process; the unique keys catch any other race, and
        ``retry_db`` then runs the request again). Under the lock: the quota count and
        prebuilt inserts.
        """
        project = body.get("project_id", "")
        with self.db.reader() as s:
            network = self._network_for_ipam(s, ctxt, body["network_id"])
            limit = base.quota_limit(self.conf, s, project, "port") if project else -1
            row = self._build(s, ctxt, body, attempt, network,
                              self.core.security_groups.default_group)
        with self.db.writer() as s:
            base.check_count(s, "port", project, limit)
            _insert(s.connection(), row)
        return self.to_dict(row, {})

    def create_in(self, s: orm.Session, ctxt: Any, body: dict[str, Any],
                  attempt: int = 0, network: models.Network | None = None) -> models.Port:
        """Create a port inside session ``s`` (routers and floating IPs use this too)."""
        if network is None:
            network = self._network_for_ipam(s, ctxt, body["network_id"])
        base.check_quota(self.conf, s, "port", body.get("project_id", ""))
        row = self._build(s, ctxt, body, attempt, network,
                          lambda project: self.core.security_groups.ensure_default(s, project))
        s.add(row)
        s.flush()
        return row

    def _build(self, s: orm.Session, ctxt: Any, body: dict[str, Any], attempt: int,
               network: models.Network, default_group: Callable[[str], str]) -> models.Port:
        """A new port row with its addresses, groups, pairs, options and binding, in no
        session yet; ``s`` is only read from."""
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
        row = models.Port(id=base.new_id(), project_id=body.get("project_id", ""),
                          network_id=network.id, name=body.get("name") or "",
                          mac_address=mac, admin_state_up=body.get("admin_state_up", True),
                          status="DOWN", device_id=body.get("device_id") or "",
                          device_owner=owner, port_security_enabled=port_security,
                          security_groups=[], allowed_address_pairs=[], extra_dhcp_opts=[])
        base.init_standard(row, body)
        fixed = body.get("fixed_ips")
        ips = ipam.allocate(s, network, fixed if fixed else None, mac, attempt)
        row.fixed_ips = [models.IPAllocation(port_id=row.id, network_id=network.id,
                                             subnet_id=i["subnet_id"],
                                             ip_address=i["ip_address"]) for i in ips]
        self._set_security(s, ctxt, row, body, default_group)
        self._set_pairs_and_opts(row, body)
        self._set_binding(row, body)
        return row

    def _network_for_ipam(self, s: orm.Session, ctxt: Any, net_id: str) -> models.Network:
        """The network (if ``ctxt`` may see it; any with ``ctxt`` None) with its subnets
        and their pools, in two statements (the hot path of port creation); what IPAM
        does not need loads lazily."""
        query: Any = sa.select(models.Network) if ctxt is None else \
            self.core.networks.visible_query(ctxt)
        row = s.scalar(query.where(models.Network.id == net_id).options(orm.lazyload("*")))
        if row is None:
            raise exception.NetworkNotFound(net_id=net_id)
        subnets = list(s.scalars(sa.select(models.Subnet).where(
            models.Subnet.network_id == net_id).options(
            orm.joinedload(models.Subnet.allocation_pools), orm.lazyload("*")).execution_options(
            populate_existing=False)).unique())
        orm.attributes.set_committed_value(row, "subnets", subnets)
        return row

    def _set_security(self, s: orm.Session, ctxt: Any, row: models.Port,
                      body: dict[str, Any],
                      default_group: Callable[[str], str] | None = None) -> None:
        """Apply the body's security groups; ``default_group`` (project -> its default
        group's id) only when creating, where no groups means the default one."""
        groups = body.get("security_groups")
        if default_group is not None and groups is None and row.port_security_enabled \
                and not network_owned(row.device_owner) and row.project_id:
            row.security_groups = [models.SecurityGroupPortBinding(
                port_id=row.id, security_group_id=default_group(row.project_id))]
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
        unique = list(dict.fromkeys(groups))
        if unique:
            self.core.security_groups.check_usable(s, ctxt, unique, row.project_id)
        row.security_groups = [models.SecurityGroupPortBinding(port_id=row.id,
                                                               security_group_id=g)
                               for g in unique]

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
                new.append(models.AllowedAddressPair(port_id=row.id,
                                                     mac_address=key[0].lower(),
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
                    current[key] = models.ExtraDhcpOpt(port_id=row.id, opt_name=key[0],
                                                       ip_version=key[1],
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
        """Update a port for the API: read and check it in a reader session, change it
        in memory, and under the write lock write only the columns and rows that
        differ, provided its revision is still the one read (else ResourceChanged, and
        ``retry_db`` runs the request again)."""
        with self.db.reader() as s:
            row = self.get_row(s, ctxt, port_id)
            tags = base.load_tags(s, [row.id])
            # Detached: the changes below stay in Python (no autoflush through a reader).
            s.expunge_all()
            before = _Rows(row)
            self._change(s, ctxt, row, body, attempt)
        with self.db.writer() as s:
            before.write(s.connection(), row)
        return self.to_dict(row, tags)

    def _change(self, s: orm.Session, ctxt: Any, row: models.Port, body: dict[str, Any],
                attempt: int) -> None:
        """Apply ``body`` to the detached ``row``; ``s`` is only read from."""
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
            network = self._network_for_ipam(s, None, row.network_id)
            keep = [{"subnet_id": f.subnet_id, "ip_address": f.ip_address}
                    for f in row.fixed_ips]
            ips = ipam.allocate(s, network, body["fixed_ips"], row.mac_address,
                                attempt, keep=keep)
            wanted = {(i["subnet_id"], i["ip_address"]) for i in ips}
            for alloc in list(row.fixed_ips):
                if (alloc.subnet_id, alloc.ip_address) not in wanted:
                    row.fixed_ips.remove(alloc)
                    ipam.released(alloc.subnet_id, alloc.ip_address)
            have = {(f.subnet_id, f.ip_address) for f in row.fixed_ips}
            row.fixed_ips.extend(
                models.IPAllocation(port_id=row.id, network_id=row.network_id,
                                    subnet_id=i["subnet_id"], ip_address=i["ip_address"])
                for i in ips if (i["subnet_id"], i["ip_address"]) not in have)
        self._set_security(s, ctxt, row, body)
        if "port_security_enabled" in body and not row.port_security_enabled and \
                row.allowed_address_pairs and not body.get("allowed_address_pairs") == []:
            raise exception.InvalidInput(
                error_message="Port has allowed address pairs; cannot disable port "
                              "security")
        self._set_pairs_and_opts(row, body)
        self._set_binding(row, body)
        base.touch(row)

    def delete(self, ctxt: Any, port_id: str) -> None:
        """Delete a port for the API: found (and its addresses read) in a reader
        session; under the write lock its floating IPs are disassociated, its tags and
        the port deleted (the database cascades to its addresses, groups, binding,
        pairs and options) unless it is a router's interface."""
        with self.db.reader() as s:
            found = self._columns(s, ctxt, port_id, models.Port.network_id,
                                  models.Port.device_id)
            if found is None:
                raise exception.PortNotFound(port_id=port_id)
            ips = list(s.execute(_PORT_IPS, {"port_id": port_id}))
        with self.db.writer() as s:
            conn = s.connection()
            conn.execute(_DISASSOCIATE, {"port_id": port_id})
            conn.execute(_DELETE_TAGS, {"port_id": port_id})
            if conn.execute(_DELETE_PORT, {"port_id": port_id}).rowcount != 1:
                if conn.scalar(_ROUTER_OF, {"port_id": port_id}) is None:
                    raise exception.PortNotFound(port_id=port_id)
                raise exception.PortInUse(port_id=port_id, net_id=found.network_id,
                                          device_id=found.device_id)
        for subnet_id, ip in ips:
            ipam.released(subnet_id, ip)

    def _columns(self, s: orm.Session, ctxt: Any, port_id: str, *columns: Any) -> Any:
        """Those ``columns`` of the port ``ctxt`` may see (a row), or None."""
        return s.execute(self.visible_query(ctxt).with_only_columns(*columns).where(
            models.Port.id == port_id)).first()

    def device_of(self, ctxt: Any, port_id: str) -> dict[str, str] | None:
        """``id``, ``device_id`` and ``device_owner`` of the port ``ctxt`` may see
        (None: no such port), without loading the rest of it."""
        with self.db.reader() as s:
            found = self._columns(s, ctxt, port_id, models.Port.id, models.Port.device_id,
                                  models.Port.device_owner)
        return dict(found._mapping) if found is not None else None

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

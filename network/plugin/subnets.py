"""Subnets (IPv4/IPv6, pools, gateway, DNS, host routes) and subnet pools."""
from __future__ import annotations

from typing import Any

import netaddr
import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.api import attributes
from network.db import models
from network.plugin import base
from network.plugin import ipam

_PREFIX_DEFAULTS = {4: (8, 32), 6: (64, 128)}


class Subnets(base.Readable):

    pushdown = ("id", "name", "project_id", "network_id")

    model = models.Subnet

    def not_found(self, obj_id: str) -> Exception:
        return exception.SubnetNotFound(subnet_id=obj_id)

    def to_dict(self, row: models.Subnet, tags: dict[str, list[str]]) -> dict[str, Any]:
        out = {
            "id": row.id, "name": row.name, "network_id": row.network_id,
            "ip_version": row.ip_version, "cidr": row.cidr, "gateway_ip": row.gateway_ip,
            "allocation_pools": [{"start": p.first_ip, "end": p.last_ip}
                                 for p in row.allocation_pools],
            "dns_nameservers": [d.address for d in row.dns_nameservers],
            "host_routes": [{"destination": r.destination, "nexthop": r.nexthop}
                            for r in row.host_routes],
            "enable_dhcp": row.enable_dhcp, "ipv6_ra_mode": row.ipv6_ra_mode,
            "ipv6_address_mode": row.ipv6_address_mode, "subnetpool_id": row.subnetpool_id,
        }
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.Subnet)
        if not base.is_admin(ctxt):
            query = query.join(models.Network).where(sa.or_(
                models.Subnet.project_id == base.project_of(ctxt),
                models.Network.project_id == base.project_of(ctxt),
                models.Network.shared.is_(True)))
        return query

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        with self.db.writer() as s:
            network = self.core.networks.get_row(s, ctxt, body["network_id"])
            base.check_quota(self.conf, s, "subnet", body["project_id"])
            version = body["ip_version"]
            cidr = self._cidr(s, body, network, version)
            net = netaddr.IPNetwork(cidr)
            if net.version != version:
                raise exception.InvalidInput(
                    error_message="Cidr %s does not match ip_version %s" % (cidr, version))
            self._check_ipv6_modes(body, version)
            for other in network.subnets:
                if netaddr.IPNetwork(other.cidr).version == version and (
                        net in netaddr.IPNetwork(other.cidr)
                        or netaddr.IPNetwork(other.cidr) in net):
                    raise exception.InvalidInput(
                        error_message="Requested subnet with cidr: %s for network: %s "
                                      "overlaps with another subnet" % (cidr, network.id))
            gateway = self._gateway(net, body.get("gateway_ip", attributes.OPTIONAL))
            pools = body.get("allocation_pools")
            if pools is None:
                pools = ipam.default_pools(cidr, gateway)
            else:
                pools = ipam.validate_pools(cidr, gateway, pools)
            self._check_extras(body, version)
            row = models.Subnet(
                id=base.new_id(), project_id=body["project_id"], network_id=network.id,
                name=body["name"], ip_version=version, cidr=cidr, gateway_ip=gateway,
                enable_dhcp=body["enable_dhcp"], ipv6_ra_mode=body.get("ipv6_ra_mode"),
                ipv6_address_mode=body.get("ipv6_address_mode"),
                subnetpool_id=body.get("subnetpool_id"))
            base.init_standard(row, body)
            self._set_children(row, pools, body.get("dns_nameservers") or [],
                               body.get("host_routes") or [])
            s.add(row)
            base.touch(network)  # its subnets changed
            s.flush()
            return self.to_dict(row, {})

    def _cidr(self, s: orm.Session, body: dict[str, Any], network: models.Network,
              version: int) -> str:
        pool_id = body.get("subnetpool_id")
        cidr = body.get("cidr")
        if pool_id is None and body.get("use_default_subnetpool"):
            pool_id = s.scalar(sa.select(models.SubnetPool.id).where(
                models.SubnetPool.is_default.is_(True),
                models.SubnetPool.ip_version == version))
            if pool_id is None:
                raise exception.BadRequest(resource="subnets",
                                           msg="No default subnetpool found for IPv%s"
                                           % version)
            body["subnetpool_id"] = pool_id
        if pool_id is None:
            if cidr is None:
                raise exception.BadRequest(
                    resource="subnets", msg="a cidr must be specified in the absence of a "
                                            "subnet pool")
            return str(cidr)
        return self.core.subnetpools.allocate(s, pool_id, version, cidr,
                                              body.get("prefixlen"))

    @staticmethod
    def _gateway(net: netaddr.IPNetwork, requested: Any) -> str | None:
        if requested is attributes.OPTIONAL:
            if net.size < 2:
                return None
            return str(netaddr.IPAddress(net.first + 1, net.version))
        if requested is None:
            return None
        gw = netaddr.IPAddress(requested)
        if gw.version != net.version or gw not in net:
            raise exception.InvalidInput(
                error_message="Gateway IP %s is not in subnet %s" % (requested, net))
        if net.version == 4 and net.prefixlen < 31 and gw.value in (net.first, net.last):
            raise exception.BadRequest(resource="subnets",
                                       msg="Gateway is not valid on subnet")
        return str(gw)

    @staticmethod
    def _check_ipv6_modes(body: dict[str, Any], version: int) -> None:
        ra, addr = body.get("ipv6_ra_mode"), body.get("ipv6_address_mode")
        if version == 4 and (ra or addr):
            raise exception.InvalidInput(
                error_message="ipv6_ra_mode or ipv6_address_mode cannot be set when "
                              "enable_dhcp is set to False or ip_version is 4")
        if ra and addr and ra != addr:
            raise exception.InvalidInput(
                error_message="ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' "
                              "is not valid" % (ra, addr))

    @staticmethod
    def _check_extras(body: dict[str, Any], version: int) -> None:
        for server in body.get("dns_nameservers") or []:
            if netaddr.IPAddress(server).version not in (4, 6):
                raise exception.InvalidInput(error_message="bad nameserver %s" % server)
        routes = body.get("host_routes") or []
        for route in routes:
            if netaddr.IPNetwork(route["destination"]).version != version or \
                    netaddr.IPAddress(route["nexthop"]).version != version:
                raise exception.InvalidInput(
                    error_message="Host route %s does not match ip_version %s"
                    % (route, version))
        keys = [(r["destination"], r["nexthop"]) for r in routes]
        if len(set(keys)) != len(keys):
            raise exception.InvalidInput(error_message="Duplicate hostroute")

    @staticmethod
    def _set_children(row: models.Subnet, pools: list[dict[str, str]] | None,
                      dns: list[str] | None, routes: list[dict[str, str]] | None) -> None:
        if pools is not None:
            row.allocation_pools = [models.AllocationPool(first_ip=p["start"], last_ip=p["end"])
                                    for p in pools]
        if dns is not None:
            row.dns_nameservers = [models.DNSNameServer(address=d, order=i)
                                   for i, d in enumerate(dns)]
        if routes is not None:
            row.host_routes = [models.HostRoute(destination=r["destination"],
                                                nexthop=r["nexthop"]) for r in routes]

    def update(self, ctxt: Any, subnet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, subnet_id)
            net = netaddr.IPNetwork(row.cidr)
            for key in ("name", "description", "enable_dhcp"):
                if key in body:
                    setattr(row, key, body[key])
            if "gateway_ip" in body:
                row.gateway_ip = self._gateway(net, body["gateway_ip"])
            pools = None
            current = [{"start": p.first_ip, "end": p.last_ip} for p in row.allocation_pools]
            if "allocation_pools" in body and body["allocation_pools"] is not None:
                pools = ipam.validate_pools(row.cidr, row.gateway_ip, body["allocation_pools"])
            elif "gateway_ip" in body:
                ipam.validate_pools(row.cidr, row.gateway_ip, current)
            self._check_extras(body, row.ip_version)
            self._set_children(row, pools, body.get("dns_nameservers"),
                               body.get("host_routes"))
            base.touch(row)
            s.flush()
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, subnet_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, subnet_id)
            allocations = list(s.execute(
                sa.select(models.IPAllocation, models.Port.device_owner)
                .join(models.Port, models.Port.id == models.IPAllocation.port_id)
                .where(models.IPAllocation.subnet_id == subnet_id)))
            auto = ipam.is_auto_address(row)
            for _alloc, owner in allocations:
                if owner != "network:dhcp" and not (
                        auto and not owner.startswith("network:router_interface")):
                    raise exception.SubnetInUse(subnet_id=subnet_id)
            for alloc, _owner in allocations:
                s.delete(alloc)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == subnet_id))
            network = s.get(models.Network, row.network_id)
            if network is not None:
                base.touch(network)
            s.delete(row)


class SubnetPools(base.Readable):

    model = models.SubnetPool

    def not_found(self, obj_id: str) -> Exception:
        return exception.SubnetPoolNotFound(subnetpool_id=obj_id)

    def to_dict(self, row: models.SubnetPool, tags: dict[str, list[str]]) -> dict[str, Any]:
        out = {
            "id": row.id, "name": row.name, "ip_version": row.ip_version,
            "prefixes": sorted(p.cidr for p in row.prefixes),
            "default_prefixlen": row.default_prefixlen, "min_prefixlen": row.min_prefixlen,
            "max_prefixlen": row.max_prefixlen, "shared": row.shared,
            "is_default": row.is_default, "default_quota": row.default_quota,
            "address_scope_id": row.address_scope_id,
        }
        out.update(base.standard(row, tags))
        return out

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.SubnetPool)
        if not base.is_admin(ctxt):
            query = query.where(sa.or_(
                models.SubnetPool.project_id == base.project_of(ctxt),
                models.SubnetPool.shared.is_(True)))
        return query

    def _lengths(self, row: models.SubnetPool, body: dict[str, Any]) -> None:
        low, high = _PREFIX_DEFAULTS[row.ip_version]
        for key in ("min_prefixlen", "max_prefixlen", "default_prefixlen", "default_quota"):
            if body.get(key) is not None:
                setattr(row, key, body[key])
        row.min_prefixlen = row.min_prefixlen if row.min_prefixlen is not None else low
        row.max_prefixlen = row.max_prefixlen if row.max_prefixlen is not None else high
        if row.default_prefixlen is None:
            row.default_prefixlen = row.min_prefixlen
        if not (0 <= row.min_prefixlen <= row.default_prefixlen <= row.max_prefixlen <= high):
            raise exception.InvalidInput(
                error_message="Illegal prefix bounds: min_prefixlen=%s, default_prefixlen=%s,"
                              " max_prefixlen=%s" % (row.min_prefixlen,
                                                     row.default_prefixlen,
                                                     row.max_prefixlen))

    def _prefixes(self, prefixes: list[str]) -> tuple[int, list[str]]:
        if not prefixes:
            raise exception.InvalidInput(error_message="prefixes must not be empty")
        versions = {netaddr.IPNetwork(p).version for p in prefixes}
        if len(versions) != 1:
            raise exception.InvalidInput(
                error_message="Cannot mix IPv4 and IPv6 prefixes in a subnet pool")
        merged = [str(c) for c in netaddr.cidr_merge([netaddr.IPNetwork(p) for p in prefixes])]
        return versions.pop(), merged

    def create(self, ctxt: Any, body: dict[str, Any]) -> dict[str, Any]:
        version, prefixes = self._prefixes(body["prefixes"])
        with self.db.writer() as s:
            base.check_quota(self.conf, s, "subnetpool", body["project_id"])
            row = models.SubnetPool(id=base.new_id(), project_id=body["project_id"],
                                    name=body["name"], ip_version=version,
                                    shared=body["shared"], is_default=body["is_default"],
                                    address_scope_id=body.get("address_scope_id"))
            base.init_standard(row, body)
            self._lengths(row, body)
            row.prefixes = [models.SubnetPoolPrefix(cidr=p) for p in prefixes]
            s.add(row)
            s.flush()
            return self.to_dict(row, {})

    def update(self, ctxt: Any, pool_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, pool_id)
            for key in ("name", "description", "is_default", "address_scope_id"):
                if key in body:
                    setattr(row, key, body[key])
            self._lengths(row, body)
            if body.get("prefixes") is not None:
                version, prefixes = self._prefixes(body["prefixes"] +
                                                   [p.cidr for p in row.prefixes])
                if version != row.ip_version:
                    raise exception.InvalidInput(error_message="prefix version mismatch")
                old = netaddr.IPSet(p.cidr for p in row.prefixes)
                if not old.issubset(netaddr.IPSet(body["prefixes"])):
                    raise exception.InvalidInput(
                        error_message="Existing prefixes must be a subset of the new ones")
                row.prefixes = [models.SubnetPoolPrefix(cidr=p) for p in prefixes]
            base.touch(row)
            s.flush()
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, pool_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, pool_id)
            if s.scalar(sa.select(models.Subnet.id).where(
                    models.Subnet.subnetpool_id == pool_id).limit(1)):
                raise exception.SubnetPoolInUse(subnetpool_id=pool_id)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == pool_id))
            s.delete(row)

    def allocate(self, s: orm.Session, pool_id: str, version: int, cidr: str | None,
                 prefixlen: int | None) -> str:
        """A CIDR from pool ``pool_id``: ``cidr`` if inside it and free, else the
        first free block of ``prefixlen`` (default: the pool's default).

        :raises: SubnetPoolNotFound, SubnetAllocationError, InvalidInput.
        """
        pool = s.get(models.SubnetPool, pool_id)
        if pool is None:
            raise exception.SubnetPoolNotFound(subnetpool_id=pool_id)
        if pool.ip_version != version:
            raise exception.InvalidInput(
                error_message="Cannot allocate IPv%s subnet from IPv%s subnet pool"
                % (version, pool.ip_version))
        available = netaddr.IPSet(p.cidr for p in pool.prefixes)
        for used in s.scalars(sa.select(models.Subnet.cidr).where(
                models.Subnet.subnetpool_id == pool_id)):
            available.remove(netaddr.IPNetwork(used))
        if cidr is not None:
            net = netaddr.IPNetwork(cidr)
            if not pool.min_prefixlen <= net.prefixlen <= pool.max_prefixlen:
                raise exception.SubnetAllocationError(
                    reason="Unsupported prefix length %s" % net.prefixlen)
            if net not in available:
                raise exception.SubnetAllocationError(
                    reason="Cannot allocate requested subnet from the available set of "
                           "prefixes")
            return str(net.cidr)
        length = prefixlen if prefixlen is not None else pool.default_prefixlen
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise exception.SubnetAllocationError(
                reason="Unsupported prefix length %s" % length)
        for block in available.iter_cidrs():
            if block.prefixlen <= length:
                return str(next(block.subnet(length)))
        raise exception.SubnetAllocationError(
            reason="Insufficient prefix space to allocate subnet size /%s" % length)

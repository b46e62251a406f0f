"""IP address management: pools, validation of requested addresses, allocation.

Allocation is optimistic: pick a free address, insert it; the UNIQUE(network_id,
ip_address) constraint makes a concurrent duplicate fail, and the caller's
retry (``base.retry_db``) picks again. After the first attempt candidates are
chosen at random among the first free ones, so 16 racing requests spread out.
"""
from __future__ import annotations

import ipaddress
import random
import threading
from typing import Any, Callable, Iterator

import netaddr
import sqlalchemy as sa
from sqlalchemy import orm

from network import exception
from network.db import models

_CANDIDATES = 64
_AUTO_ADDRESS = ("slaac", "dhcpv6-stateless")


class _InFlight:
    """Addresses this process is handing out in transactions not yet committed.

    Port creation chooses its addresses before it takes the write lock, so
    concurrent requests in one server choose at once: they skip held addresses
    instead of colliding on the unique constraint and retrying; the constraint
    still guards everything else (other server processes, races this misses).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}
        self._mine = threading.local()

    def hold_one(self, subnet_id: str, ips: list[str],
                 pick: Callable[[list[str]], str]) -> str | None:
        """Hold the address ``pick`` chooses among ``ips`` not held yet, in one step
        (two requests choosing at once never get the same); None if all are held."""
        with self._lock:
            held = self._held.get(subnet_id, set())
            free = [ip for ip in ips if ip not in held]
            if not free:
                return None
            chosen = pick(free)
            self._held.setdefault(subnet_id, set()).add(chosen)
        self._remember(subnet_id, chosen)
        return chosen

    def hold(self, subnet_id: str, ip: str) -> None:
        """Hold ``ip`` even if another request holds it too."""
        with self._lock:
            self._held.setdefault(subnet_id, set()).add(ip)
        self._remember(subnet_id, ip)

    def _remember(self, subnet_id: str, ip: str) -> None:
        held = getattr(self._mine, "held", None)
        if held is None:
            held = self._mine.held = []
        held.append((subnet_id, ip))

    def release_mine(self) -> None:
        """Forget what this thread holds (its transaction ended either way)."""
        held = getattr(self._mine, "held", None) or []
        self._mine.held = []
        with self._lock:
            for subnet_id, ip in held:
                found = self._held.get(subnet_id)
                if found is not None:
                    found.discard(ip)
                    if not found:
                        del self._held[subnet_id]


IN_FLIGHT = _InFlight()


def default_pools(cidr: str, gateway: str | None) -> list[dict[str, str]]:
    """The whole usable range of ``cidr`` minus the gateway."""
    net = netaddr.IPNetwork(cidr)
    if net.version == 4:
        if net.prefixlen >= 31:
            first, last = net.first, net.last
        else:
            first, last = net.first + 1, net.last - 1
    else:
        first, last = net.first + 1, net.last
    if first > last:
        return []
    ranges = netaddr.IPSet(netaddr.IPRange(first, last))
    if gateway:
        ranges.remove(netaddr.IPAddress(gateway))
    return [{"start": str(netaddr.IPAddress(r.first, net.version)),
             "end": str(netaddr.IPAddress(r.last, net.version))}
            for r in ranges.iter_ipranges()]


def validate_pools(cidr: str, gateway: str | None,
                   pools: list[dict[str, str]]) -> list[dict[str, str]]:
    """:raises: InvalidAllocationPool, OverlappingAllocationPools,
    GatewayConflictWithAllocationPools."""
    net = netaddr.IPNetwork(cidr)
    ranges: list[netaddr.IPRange] = []
    for pool in pools:
        try:
            start, end = netaddr.IPAddress(pool["start"]), netaddr.IPAddress(pool["end"])
        except (netaddr.AddrFormatError, ValueError):
            raise exception.InvalidAllocationPool(pool=pool)
        if start.version != net.version or end.version != net.version or start > end:
            raise exception.InvalidAllocationPool(pool=pool)
        if start not in net or end not in net:
            raise exception.InvalidAllocationPool(pool=pool)
        if net.version == 4 and net.prefixlen < 31 and (
                start.value == net.first or end.value == net.last):
            raise exception.InvalidAllocationPool(pool=pool)
        ranges.append(netaddr.IPRange(start, end))
    for i, one in enumerate(ranges):
        for other in ranges[i + 1:]:
            if one.first <= other.last and other.first <= one.last:
                raise exception.OverlappingAllocationPools(
                    pool_1=one, pool_2=other, subnet_cidr=cidr)
    if gateway:
        gw = netaddr.IPAddress(gateway)
        for one in ranges:
            if gw in one:
                raise exception.GatewayConflictWithAllocationPools(
                    ip_address=gateway, pool=one)
    return [{"start": str(r[0]), "end": str(r[-1])} for r in ranges]


def is_auto_address(subnet: models.Subnet) -> bool:
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in _AUTO_ADDRESS


def in_subnet(subnet: models.Subnet, ip: str) -> bool:
    net = netaddr.IPNetwork(subnet.cidr)
    addr = netaddr.IPAddress(ip)
    if addr.version != net.version or addr not in net:
        return False
    if net.version == 4 and net.prefixlen < 31 and addr.value in (net.first, net.last):
        return False
    return True


def used_addresses(s: orm.Session, subnet_id: str) -> set[str]:
    return set(s.scalars(sa.select(models.IPAllocation.ip_address).where(
        models.IPAllocation.subnet_id == subnet_id)))


class _Cursors:
    """Per subnet, the lowest address (as an integer) this process believes may be free.

    Allocation scans from there instead of reading every allocated address, so a
    port costs a query or two however full the subnet is. It is only a hint: a
    stale one (an address freed by another server process) is found again when the
    scan wraps around at the end of the pools; the unique constraint decides.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: dict[str, int] = {}

    def get(self, subnet_id: str) -> int | None:
        with self._lock:
            return self._at.get(subnet_id)

    def advance(self, subnet_id: str, value: int) -> None:
        with self._lock:
            self._at[subnet_id] = max(value, self._at.get(subnet_id, value))

    def lower(self, subnet_id: str, value: int) -> None:
        with self._lock:
            if subnet_id in self._at and value < self._at[subnet_id]:
                self._at[subnet_id] = value


CURSORS = _Cursors()


def released(subnet_id: str, ip: str) -> None:
    """Note that ``ip`` of ``subnet_id`` returns to its pool (port deleted or changed)."""
    CURSORS.lower(subnet_id, int(ipaddress.ip_address(ip)))


def _ranges(subnet: models.Subnet) -> list[tuple[int, int]]:
    return sorted((int(ipaddress.ip_address(p.first_ip)), int(ipaddress.ip_address(p.last_ip)))
                  for p in subnet.allocation_pools)


def _cycle(ranges: list[tuple[int, int]], start: int) -> Iterator[int]:
    """Every pool address once: from ``start`` to the end, then from the beginning."""
    for first, last in ranges:
        yield from range(max(first, start), last + 1)
    for first, last in ranges:
        yield from range(first, min(last, start - 1) + 1)


def _windows(values: Iterator[int], size: int = 16,
             most: int = 1024) -> Iterator[list[int]]:
    """Slices of ``values`` growing from ``size`` to ``most`` (a full subnet is
    crossed in few queries, an empty one costs one small query)."""
    window: list[int] = []
    for value in values:
        window.append(value)
        if len(window) >= size:
            yield window
            window = []
            size = min(size * 2, most)
    if window:
        yield window


def next_free(s: orm.Session, subnet: models.Subnet, attempt: int,
              taken: set[str] | None = None) -> str | None:
    """A free address of ``subnet``'s pools (not in ``taken``), held in flight until
    the transaction ends; None when the pools are full."""
    ranges = _ranges(subnet)
    if not ranges:
        return None
    make = ipaddress.IPv4Address if subnet.ip_version == 4 else ipaddress.IPv6Address
    pick = _first if attempt == 0 else _one_of_first
    taken = taken or set()
    start = CURSORS.get(subnet.id) or ranges[0][0]
    free: list[str] = []
    chosen = None
    for window in _windows(_cycle(ranges, start)):
        names = [str(make(v)) for v in window]
        used = set(s.scalars(sa.select(models.IPAllocation.ip_address).where(
            models.IPAllocation.network_id == subnet.network_id,
            models.IPAllocation.ip_address.in_(names))))
        free += [ip for ip in names if ip not in used and ip not in taken]
        if attempt == 0 or len(free) >= _CANDIDATES:
            # The first free one, or (racing again) one of the first free ones at
            # random, unless requests in flight hold them all: then scan on.
            chosen = IN_FLIGHT.hold_one(subnet.id, free, pick)
            if chosen is not None:
                break
    if chosen is None and free:
        chosen = IN_FLIGHT.hold_one(subnet.id, free, pick)
    if chosen is None:
        if not free:
            return None
        # Everything free is held by requests in flight: try one of them (the
        # constraint decides), so a nearly full subnet still fills up.
        chosen = pick(free)
        IN_FLIGHT.hold(subnet.id, chosen)
    CURSORS.advance(subnet.id, int(make(chosen)) + 1)
    return chosen


def _first(ips: list[str]) -> str:
    return ips[0]


def _one_of_first(ips: list[str]) -> str:
    """After a lost race: spread the racers over the first free addresses."""
    return random.choice(ips[:_CANDIDATES])


def eui64(subnet: models.Subnet, mac: str) -> str:
    prefix = netaddr.IPNetwork(subnet.cidr)
    return str(netaddr.EUI(mac).ipv6(prefix.first))


def address_in_use(s: orm.Session, network_id: str, ip: str) -> bool:
    return s.scalar(sa.select(models.IPAllocation.port_id).where(
        models.IPAllocation.network_id == network_id,
        models.IPAllocation.ip_address == ip)) is not None


def allocate(s: orm.Session, network: models.Network, requested: list[dict[str, Any]] | None,
             mac: str, attempt: int, port_id: str | None = None,
             keep: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """Resolve ``requested`` fixed IPs (None: automatic) into ``[{subnet_id, ip_address}]``.

    ``keep`` are addresses the port already holds (on update): requesting them
    again does not count as in use.

    :raises: InvalidInput, InvalidIpForSubnet, IpAddressInUse,
        IpAddressGenerationFailure, SubnetNotFound.
    """
    subnets = {sub.id: sub for sub in network.subnets}
    if requested is None:
        return _automatic(s, network, subnets, mac, attempt)
    kept = {(k["subnet_id"], k["ip_address"]) for k in keep or []}
    result: list[dict[str, str]] = []
    taken: set[str] = set()
    for item in requested:
        sub = _subnet_for(network, subnets, item)
        ip = item.get("ip_address")
        if ip is not None:
            ip = str(netaddr.IPAddress(ip))
            if not in_subnet(sub, ip):
                raise exception.InvalidIpForSubnet(ip_address=ip)
            if (sub.id, ip) not in kept and (ip in taken or address_in_use(s, network.id, ip)):
                raise exception.IpAddressInUse(net_id=network.id, ip_address=ip)
        elif is_auto_address(sub):
            ip = eui64(sub, mac)
        else:
            ip = next_free(s, sub, attempt, taken)
            if ip is None:
                raise exception.IpAddressGenerationFailure(net_id=network.id)
        taken.add(ip)
        result.append({"subnet_id": sub.id, "ip_address": ip})
    return result


def _subnet_for(network: models.Network, subnets: dict[str, models.Subnet],
                item: dict[str, Any]) -> models.Subnet:
    subnet_id, ip = item.get("subnet_id"), item.get("ip_address")
    if subnet_id is None and ip is None:
        raise exception.InvalidInput(
            error_message="IP allocation requires subnet_id or ip_address")
    if subnet_id is not None:
        sub = subnets.get(subnet_id)
        if sub is None:
            raise exception.InvalidInput(
                error_message="Failed to create port on network %s, because fixed_ips "
                              "included invalid subnet %s" % (network.id, subnet_id))
        return sub
    matches = [x for x in subnets.values() if in_subnet(x, str(ip))]
    if not matches:
        raise exception.InvalidInput(
            error_message="IP address %s is not a valid IP for any of the subnets "
                          "on the specified network." % ip)
    return matches[0]


def _automatic(s: orm.Session, network: models.Network, subnets: dict[str, models.Subnet],
               mac: str, attempt: int) -> list[dict[str, str]]:
    """One address from the first IPv4 subnet with room, one from every IPv6 subnet."""
    result: list[dict[str, str]] = []
    ordered = sorted(subnets.values(), key=lambda sub: sub.created_at)
    v4 = [sub for sub in ordered if sub.ip_version == 4]
    for sub in v4:
        ip = next_free(s, sub, attempt)
        if ip is not None:
            result.append({"subnet_id": sub.id, "ip_address": ip})
            break
    else:
        if v4:
            raise exception.IpAddressGenerationFailure(net_id=network.id)
    for sub in ordered:
        if sub.ip_version != 6:
            continue
        if is_auto_address(sub):
            result.append({"subnet_id": sub.id, "ip_address": eui64(sub, mac)})
            continue
        ip = next_free(s, sub, attempt)
        if ip is None:
            raise exception.IpAddressGenerationFailure(net_id=network.id)
        result.append({"subnet_id": sub.id, "ip_address": ip})
    return result


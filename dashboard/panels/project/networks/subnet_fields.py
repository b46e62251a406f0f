"""The fields of a subnet and their checks (CIDR, gateway, pools, DNS, routes),
all done with :mod:`ipaddress` before the API is called."""
from __future__ import annotations

import ipaddress
from typing import Any

from django import forms

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_MAX_PREFIX = {4: 30, 6: 126}


def parse_cidr(text: str, version: int | None = None) -> IPNetwork:
    """``text`` as a network; :class:`forms.ValidationError` saying what is wrong."""
    text = text.strip()
    if "/" not in text:
        raise forms.ValidationError("Write the network with its prefix length, "
                                    "e.g. 10.0.0.0/24.")
    try:
        net = ipaddress.ip_network(text)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise forms.ValidationError("%s is not a network address (CIDR)." % text) from None
        raise forms.ValidationError("%s has host bits set: did you mean %s?"
                                    % (text, loose)) from None
    if version is not None and net.version != version:
        raise forms.ValidationError("%s is an IPv%d network, not IPv%d." %
                                    (net, net.version, version))
    return net


def parse_ip(text: str, version: int | None = None) -> IPAddress:
    text = text.strip()
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise forms.ValidationError("%s is not an IP address." % text) from None
    if version is not None and addr.version != version:
        raise forms.ValidationError("%s is not an IPv%d address." % (text, version))
    return addr


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_pools(text: str, net: IPNetwork) -> list[dict[str, str]]:
    """``start,end`` lines inside ``net``, in order, not overlapping."""
    pools: list[tuple[IPAddress, IPAddress]] = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            raise forms.ValidationError("'%s': write a pool as start,end." % line)
        start, end = parse_ip(parts[0], net.version), parse_ip(parts[1], net.version)
        for addr in (start, end):
            if addr not in net:
                raise forms.ValidationError("%s is not inside %s." % (addr, net))
        if int(start) > int(end):
            raise forms.ValidationError("'%s': the start comes after the end." % line)
        for other in pools:
            if int(start) <= int(other[1]) and int(other[0]) <= int(end):
                raise forms.ValidationError("The pools %s-%s and %s-%s overlap."
                                            % (other[0], other[1], start, end))
        pools.append((start, end))
    return [{"start": str(s), "end": str(e)} for s, e in pools]


def _unique(values: list[Any], what: str) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise forms.ValidationError("%s is listed twice." % what % value)
        seen.append(value)
    return values


def parse_dns(text: str) -> list[str]:
    return _unique([str(parse_ip(line)) for line in _lines(text)], "The server %s")


def parse_routes(text: str, version: int) -> list[dict[str, str]]:
    routes = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2:
            raise forms.ValidationError("'%s': write a route as destination CIDR,next hop."
                                        % line)
        dest = parse_cidr(parts[0], version)
        hop = parse_ip(parts[1], version)
        routes.append({"destination": str(dest), "nexthop": str(hop)})
    _unique(["%s,%s" % (r["destination"], r["nexthop"]) for r in routes], "The route %s")
    return routes


def check_subnet_range(net: IPNetwork) -> None:
    """A range instances can live in (not multicast, loopback, link-local...)."""
    for bad, what in ((net.prefixlen == 0, "the whole address space"),
                      (net.is_multicast, "multicast"), (net.is_loopback, "loopback"),
                      (net.is_link_local, "link-local"), (net.is_unspecified, "unspecified"),
                      (net.is_reserved, "reserved")):
        if bad:
            raise forms.ValidationError("%s is %s: instances cannot use it." % (net, what))


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class SubnetFields(forms.Form):
    """A subnet's fields; ``clean`` leaves the API body in ``cleaned_data["subnet"]``."""

    subnet_name = forms.CharField(label="Subnet name", required=False, max_length=255)
    cidr = forms.CharField(label="Network address", required=False, max_length=64,
                           help_text="CIDR, e.g. 10.0.0.0/24 or fd00:1::/64.")
    ip_version = forms.TypedChoiceField(label="IP version", choices=[(4, "IPv4"), (6, "IPv6")],
                                        coerce=int, initial=4, required=False,
                                        empty_value=4)
    gateway_ip = forms.CharField(label="Gateway IP", required=False, max_length=64,
                                 help_text="Empty: the first address of the network.")
    no_gateway = forms.BooleanField(label="Disable gateway", required=False)
    enable_dhcp = forms.BooleanField(label="Enable DHCP", required=False, initial=True)
    allocation_pools = forms.CharField(
        label="Allocation pools", required=False, widget=_textarea(),
        help_text="One range a line: start,end (e.g. 10.0.0.10,10.0.0.200). "
                  "Empty: the whole network.")
    dns_nameservers = forms.CharField(label="DNS name servers", required=False,
                                      widget=_textarea(), help_text="One address a line.")
    host_routes = forms.CharField(label="Host routes", required=False, widget=_textarea(),
                                  help_text="One route a line: destination CIDR,next hop "
                                            "(e.g. 192.168.9.0/24,10.0.0.254).")

    #: Editing an existing subnet: empty gateway or pools mean "leave as it is".
    editing = False

    def subnet_wanted(self) -> bool:
        return True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.subnet_wanted() and "ip_version" in data:
            body = self._subnet_body(data)
            if body is not None:
                data["subnet"] = body
        return data

    def _subnet_body(self, data: dict[str, Any]) -> dict[str, Any] | None:
        version = int(data.get("ip_version") or 4)
        if not data.get("cidr"):
            self.add_error("cidr", "Enter the network address of the subnet.")
            return None
        try:
            net = parse_cidr(data["cidr"], version)
            check_subnet_range(net)
        except forms.ValidationError as err:
            self.add_error("cidr", err)
            return None
        if net.prefixlen > _MAX_PREFIX[version]:
            self.add_error("cidr", "%s is too small: use a prefix of /%d or shorter."
                           % (net, _MAX_PREFIX[version]))
            return None
        body: dict[str, Any] = {"name": data.get("subnet_name") or "",
                                "is_dhcp_enabled": bool(data.get("enable_dhcp"))}
        if not self.editing:
            body.update(cidr=str(net), ip_version=version)
        gateway = self._gateway(data, net, body)
        if gateway is False:
            return None
        try:
            pools = parse_pools(data.get("allocation_pools", ""), net)
            if pools:
                body["allocation_pools"] = pools
        except forms.ValidationError as err:
            self.add_error("allocation_pools", err)
            return None
        if isinstance(gateway, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            for pool in pools:
                if int(ipaddress.ip_address(pool["start"])) <= int(gateway) <= \
                        int(ipaddress.ip_address(pool["end"])):
                    self.add_error("allocation_pools", "The gateway %s is inside the pool "
                                   "%s-%s." % (gateway, pool["start"], pool["end"]))
                    return None
        for field, parse in (("dns_nameservers", parse_dns),
                             ("host_routes", lambda text: parse_routes(text, version))):
            try:
                values = parse(data.get(field, ""))
            except forms.ValidationError as err:
                self.add_error(field, err)
                return None
            if values or self.editing:
                body[field] = values
        return body

    def _gateway(self, data: dict[str, Any], net: IPNetwork,
                 body: dict[str, Any]) -> IPAddress | None | bool:
        """The gateway (also put in ``body``), None when disabled, False on error."""
        if data.get("no_gateway"):
            body["gateway_ip"] = None
            return None
        text = (data.get("gateway_ip") or "").strip()
        if not text:
            # Neutron picks the first address; pools must stay clear of it too.
            return None if self.editing else net.network_address + 1
        try:
            gateway = parse_ip(text, net.version)
        except forms.ValidationError as err:
            self.add_error("gateway_ip", err)
            return False
        if gateway not in net:
            self.add_error("gateway_ip", "%s is not inside %s." % (gateway, net))
            return False
        if gateway == net.network_address or (
                isinstance(net, ipaddress.IPv4Network) and gateway == net.broadcast_address):
            self.add_error("gateway_ip", "%s is the network's own address, not a host."
                           % gateway)
            return False
        body["gateway_ip"] = str(gateway)
        return gateway

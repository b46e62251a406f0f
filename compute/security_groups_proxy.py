"""The deprecated security group proxy APIs (Nova's ``os-security-groups`` and
``os-security-group-rules`` before 2.36) with the network service behind them.

Groups and rules live in the network service and are asked for with the
caller's token; views are Nova's (compute/server_security_groups.group_view).
As Nova with Neutron: an id that is not a UUID is a 400; an unknown group or
rule a 404; a rule's protocol (tcp, udp, icmp), ports and cidr are checked
before the network service is asked; the network service's refusals (a group in
use, a project's default group, the same rule twice: its 409s) are 400s, its
quota refusals 403s.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netaddr
from oslo_log import log as logging
from oslo_utils import uuidutils

from common import exception as common_exception
from compute import exception
from compute import server_security_groups
from compute.clients import network as network_client

LOG = logging.getLogger(__name__)
ANY_CIDR = server_security_groups.ANY_CIDR
PROTOCOLS = ("TCP", "UDP", "ICMP")


def validate_id(value: Any, what: str = "Security group") -> str:
    """Nova's check of a group or rule id with Neutron: a UUID, else a 400."""
    if not isinstance(value, str) or not uuidutils.is_uuid_like(value):
        raise exception.InvalidSecurityGroupInput(reason="%s id should be uuid" % what)
    return value


def _refused(err: common_exception.Error) -> common_exception.Error:
    """The network service's conflicts, as Nova answers them (400)."""
    if isinstance(err, exception.NetworkConflict):
        return exception.InvalidSecurityGroupInput(reason=err.message)
    return err


def _port(value: Any, protocol: str) -> int:
    if isinstance(value, bool):
        value = None
    try:
        return int(value)
    except (TypeError, ValueError):
        if protocol == "ICMP":
            reason = "Type and Code must be integers for ICMP protocol type"
        else:
            reason = "To and From ports must be integers"
        raise exception.InvalidSecurityGroupInput(reason=reason) from None


def ingress_rule(ip_protocol: str | None, from_port: Any, to_port: Any,
                 group_id: str | None, cidr: str | None) -> dict[str, Any] | None:
    """Nova's rule from the request's fields: {protocol, from_port, to_port, and
    group_id or cidr}; None when a cidr rule lacks its protocol or ports.

    :raises: InvalidSecurityGroupInput, InvalidIpProtocol, InvalidPortRange.
    """
    values: dict[str, Any] = {}
    upper = str(ip_protocol).upper() if ip_protocol else ""
    if group_id:
        values["group_id"] = group_id
        if from_port is None and to_port is None:
            if upper == "ICMP":
                from_port = to_port = -1
            elif upper in ("TCP", "UDP"):
                from_port, to_port = 1, 65535
    else:
        values["cidr"] = cidr
    if not (ip_protocol and from_port is not None and to_port is not None):
        return None if not group_id else values
    low, high = _port(from_port, upper), _port(to_port, upper)
    if upper not in PROTOCOLS:
        raise exception.InvalidIpProtocol(protocol=ip_protocol)
    if upper in ("TCP", "UDP"):
        if low > high:
            raise exception.InvalidPortRange(from_port=low, to_port=high,
                                   msg="Former value cannot be greater than the later")
        if low < 1 or high > 65535:
            raise exception.InvalidPortRange(from_port=low, to_port=high,
                                   msg="Valid %s ports should be between 1-65535" % upper)
    elif not (-1 <= low <= 255 and -1 <= high <= 255):
        raise exception.InvalidPortRange(from_port=low, to_port=high,
                               msg="For ICMP, the type:code must be valid")
    values.update(protocol=str(ip_protocol), from_port=low, to_port=high)
    return values


def parse_cidr(cidr: str | None) -> str:
    """The rule's cidr (any address when not given). :raises: InvalidCidr."""
    if not cidr:
        return ANY_CIDR
    try:
        net = netaddr.IPNetwork(cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise exception.InvalidCidr(cidr=cidr) from None
    if "/" not in cidr or (net.prefixlen == 0 and str(net.ip) not in ("0.0.0.0", "::")):
        raise exception.InvalidCidr(cidr=cidr)
    return cidr


def network_rule(rule: Mapping[str, Any], parent_id: str) -> dict[str, Any]:
    """The network service's body of a Nova ingress rule."""
    cidr = rule.get("cidr")
    body: dict[str, Any] = {
        "security_group_id": parent_id, "direction": "ingress",
        "ethertype": "IPv6" if cidr and netaddr.IPNetwork(cidr).version == 6 else "IPv4"}
    if rule.get("protocol"):
        body["protocol"] = str(rule["protocol"]).lower()
    if cidr:
        body["remote_ip_prefix"] = cidr
    if rule.get("group_id"):
        body["remote_group_id"] = rule["group_id"]
    for ours, theirs in (("from_port", "port_range_min"), ("to_port", "port_range_max")):
        if rule.get(ours) is not None and rule[ours] != -1:
            body[theirs] = rule[ours]
    return body


class SecurityGroupsProxy:
    def __init__(self, conf: Any) -> None:
        self.conf = conf

    def _view(self, ctxt: Any, group: Mapping[str, Any]) -> dict[str, Any]:
        return server_security_groups.group_views(self.conf, ctxt, [group])[0]

    def list(self, ctxt: Any, all_tenants: bool) -> list[dict[str, Any]]:
        """The caller's project's groups; every project's for an admin asking for
        ``all_tenants``."""
        filters = {} if all_tenants and ctxt.is_admin else {"project_id": ctxt.project_id}
        return server_security_groups.group_views(
            self.conf, ctxt, network_client.list_security_groups(self.conf, ctxt, filters))

    def show(self, ctxt: Any, group_id: str) -> dict[str, Any]:
        group = network_client.get_security_group(self.conf, ctxt, validate_id(group_id))
        return self._view(ctxt, group)

    def create(self, ctxt: Any, name: str, description: str) -> dict[str, Any]:
        try:
            group = network_client.create_security_group(
                self.conf, ctxt, {"name": name, "description": description})
        except exception.NetworkConflict as err:
            raise _refused(err) from err
        LOG.info("Created security group %s", group.get("id"))
        return self._view(ctxt, group)

    def update(self, ctxt: Any, group_id: str, name: str,
               description: str) -> dict[str, Any]:
        try:
            group = network_client.update_security_group(
                self.conf, ctxt, validate_id(group_id),
                {"name": name, "description": description})
        except exception.NetworkConflict as err:
            raise _refused(err) from err
        return self._view(ctxt, group)

    def delete(self, ctxt: Any, group_id: str) -> None:
        try:
            network_client.delete_security_group(self.conf, ctxt, validate_id(group_id))
        except exception.NetworkConflict as err:
            raise _refused(err) from err
        LOG.info("Deleted security group %s", group_id)

    def create_rule(self, ctxt: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A rule in the group ``parent_group_id``, in Nova's format.

        :raises: SecurityGroupNotFound (404: the parent or the remote group),
            the 400s of :func:`ingress_rule` and :func:`parse_cidr`, 400 for the
            network service's refusals, SecurityGroupLimitExceeded (403).
        """
        parent = network_client.get_security_group(
            self.conf, ctxt, validate_id(fields.get("parent_group_id")))
        group_id = fields.get("group_id")
        source: dict[str, Any] | None = None
        if group_id is not None:
            source = network_client.get_security_group(self.conf, ctxt,
                                                       validate_id(group_id))
            rule = ingress_rule(fields.get("ip_protocol"), fields.get("from_port"),
                                fields.get("to_port"), group_id, None)
        else:
            rule = ingress_rule(fields.get("ip_protocol"), fields.get("from_port"),
                                fields.get("to_port"), None, parse_cidr(fields.get("cidr")))
        if rule is None:
            raise exception.InvalidSecurityGroupInput(
                reason="Not enough parameters to build a valid rule.")
        try:
            created = network_client.create_security_group_rule(
                self.conf, ctxt, network_rule(rule, str(parent["id"])))
        except exception.NetworkConflict as err:
            raise _refused(err) from err
        LOG.info("Created security group rule %s", created.get("id"))
        known = {str(parent["id"]): parent}
        if source is not None:
            known[str(source["id"])] = source
        view = server_security_groups.rule_view(created, known)
        if view is None:  # not reached: its remote group is known
            raise exception.SecurityGroupNotFound(security_group_id=group_id)
        if rule.get("cidr"):
            # The network service keeps the network address; Nova (with Neutron,
            # which keeps the prefix as given) answers with the cidr asked for.
            view["ip_range"] = {"cidr": rule["cidr"]}
        return view

    def delete_rule(self, ctxt: Any, rule_id: str) -> None:
        network_client.delete_security_group_rule(
            self.conf, ctxt, validate_id(rule_id, "Security group rule"))
        LOG.info("Deleted security group rule %s", rule_id)

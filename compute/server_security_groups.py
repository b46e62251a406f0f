"""A server's security groups (Nova's ``os-security-groups`` with Neutron behind
it): the list (``GET /servers/{id}/os-security-groups``) and the
``addSecurityGroup`` / ``removeSecurityGroup`` actions.

Security groups live in the network service: a server is in a group when its
ports are. The group is found by name in the server's project, else by id
(404 when neither, 409 when two groups of the project share the name); then
every port of the server (``device_id`` = the server) gets the group added or
removed. As on Nova, a server without ports is a 404, adding a group to a port
without port security or IP is a 400, adding a group the server already has
changes nothing, and removing one that is on none of its ports is a 404; the
lock and the server's state are not checked (Nova does not either).

The server record keeps the names of its groups (``security_groups``: what the
server views show, what the node gives ports it creates later, what the
metadata service lists); both actions keep it in step.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oslo_log import log as logging

from compute import exception
from compute import servers as servers_service
from compute.clients import network as network_client

LOG = logging.getLogger(__name__)
ANY_CIDR = "0.0.0.0/0"


def _ports(port: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Nova's from_port/to_port of a network service rule."""
    low, high = port.get("port_range_min"), port.get("port_range_max")
    protocol = port.get("protocol")
    if protocol and low is None and high is None:
        return (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    return low, high


def rule_view(rule: Mapping[str, Any],
              groups: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """An ingress rule in Nova's (nova-network) format; None for a rule whose
    remote group the caller cannot see (Nova leaves such rules out)."""
    from_port, to_port = _ports(rule)
    view: dict[str, Any] = {"id": rule.get("id"),
                            "parent_group_id": rule.get("security_group_id"),
                            "ip_protocol": rule.get("protocol"),
                            "from_port": from_port, "to_port": to_port,
                            "group": {}, "ip_range": {}}
    remote = rule.get("remote_group_id")
    if remote:
        source = groups.get(str(remote))
        if source is None:
            return None
        view["group"] = {"name": source.get("name"), "tenant_id": source.get("tenant_id")}
    else:
        view["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or ANY_CIDR}
    return view


def group_view(group: Mapping[str, Any],
               groups: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A network service security group in Nova's format: its ingress rules only."""
    rules = [rule_view(r, groups) for r in group.get("security_group_rules") or ()
             if r.get("direction") == "ingress"]
    return {"id": group.get("id"), "name": group.get("name"),
            "description": group.get("description"),
            "tenant_id": group.get("tenant_id") or group.get("project_id"),
            "rules": [r for r in rules if r is not None]}


def group_views(conf: Any, ctxt: Any,
                groups: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """These network service groups in Nova's format, sorted by project and name;
    the remote groups of their rules that are not among them are asked for (as the
    caller: a rule whose remote group the caller cannot see is left out)."""
    found = {str(g["id"]): g for g in groups}
    remote = {str(r["remote_group_id"]) for g in found.values()
              for r in g.get("security_group_rules") or () if r.get("remote_group_id")}
    missing = sorted(remote - set(found))
    known = dict(found)
    if missing:
        known.update({str(g["id"]): g for g in network_client.list_security_groups(
            conf, ctxt, {"id": missing})})
    views = [group_view(g, known) for g in found.values()]
    return sorted(views, key=lambda v: (str(v["tenant_id"]), str(v["name"])))


def _group_ids(ports: Iterable[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(g) for port in ports
                              for g in port.get("security_groups") or ()))


def _can_have_groups(port: Mapping[str, Any]) -> bool:
    """Nova's rule: port security on, and an IP (or one to come)."""
    if not (port.get("fixed_ips") or port.get("ip_allocation") == "deferred"):
        return False
    return port.get("port_security_enabled", True) is not False


class ServerSecurityGroups:
    def __init__(self, servers: servers_service.ServerService) -> None:
        self.servers = servers
        self.conf = servers.conf

    def _server_ports(self, ctxt: Any, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
        ports = network_client.list_ports(self.conf, ctxt, {"device_id": instance["uuid"]})
        if not ports:
            raise exception.ServerHasNoPorts(instance_uuid=instance["uuid"])
        return ports

    def list(self, ctxt: Any, instance: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The groups of the server's ports the caller may see, in Nova's format,
        sorted by project and name."""
        ids = _group_ids(network_client.list_ports(self.conf, ctxt,
                                                   {"device_id": instance["uuid"]}))
        if not ids:
            return []
        return group_views(self.conf, ctxt, network_client.list_security_groups(
            self.conf, ctxt, {"id": ids}))

    def add(self, ctxt: Any, instance: Mapping[str, Any], name: str) -> None:
        """Add the group ``name`` (or id) to every port of the server.

        :raises: SecurityGroupNotFound (404: no such group, or a server without
            ports), SecurityGroupNotUnique (409), SecurityGroupCannotBeApplied
            (400: a port without port security or IP), the network errors of
            update_port.
        """
        group = network_client.find_security_group(self.conf, ctxt, name,
                                                   str(instance["project_id"]))
        group_id = str(group["id"])
        ports = self._server_ports(ctxt, instance)
        for port in ports:
            if not _can_have_groups(port):
                LOG.warning("Cannot add security group %(group)s to %(uuid)s: port "
                            "%(port)s has no port security or no IP",
                            {"group": group_id, "uuid": instance["uuid"], "port": port["id"]})
                raise exception.SecurityGroupCannotBeApplied()
        for port in ports:
            current = [str(g) for g in port.get("security_groups") or ()]
            if group_id not in current:
                LOG.info("Adding security group %(group)s to port %(port)s",
                         {"group": group_id, "port": port["id"]})
                network_client.update_port(self.conf, ctxt, port["id"],
                                           {"security_groups": current + [group_id]})
        self._record(instance, add=group)

    def remove(self, ctxt: Any, instance: Mapping[str, Any], name: str) -> None:
        """Remove the group ``name`` (or id) from every port of the server that has it.

        :raises: SecurityGroupNotFound (404: no such group, a server without ports,
            or a group on none of its ports), SecurityGroupNotUnique (409), the
            network errors of update_port.
        """
        group = network_client.find_security_group(self.conf, ctxt, name,
                                                   str(instance["project_id"]))
        group_id = str(group["id"])
        removed = False
        for port in self._server_ports(ctxt, instance):
            current = [str(g) for g in port.get("security_groups") or ()]
            if group_id in current:
                LOG.info("Removing security group %(group)s from port %(port)s",
                         {"group": group_id, "port": port["id"]})
                network_client.update_port(self.conf, ctxt, port["id"], {
                    "security_groups": [g for g in current if g != group_id]})
                removed = True
        if not removed:
            raise exception.SecurityGroupNotOnServer(name=name, instance_uuid=instance["uuid"])
        self._record(instance, remove=group)

    def _record(self, instance: Mapping[str, Any], add: Mapping[str, Any] | None = None,
                remove: Mapping[str, Any] | None = None) -> None:
        """Keep the server's ``security_groups`` names in step with its ports."""
        names = [str(n) for n in instance.get("security_groups") or ()]
        if add is not None:
            label = str(add.get("name") or add["id"])
            if label not in names and str(add["id"]) not in names:
                names.append(label)
        if remove is not None:
            gone = {str(remove["id"]), str(remove.get("name") or remove["id"])}
            names = [n for n in names if n not in gone]
        if names != list(instance.get("security_groups") or ()):
            self.servers.store.update(instance["uuid"], {"security_groups": names})

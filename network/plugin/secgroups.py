"""Security groups and rules; every project's ``default`` group is created on
first use with Neutron's default rules."""
from __future__ import annotations

from typing import Any

import netaddr
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from network import exception
from network.db import models
from network.plugin import base

PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0,
             "icmp": 1, "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41,
             "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
             "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6,
             "udp": 17, "udplite": 136, "vrrp": 112, "any": -1}
_PORTED = {6, 17, 33, 132, 136}
_ICMP = {1, 58}


def protocol_number(protocol: str | None) -> int | None:
    """:raises: SecurityGroupRuleInvalidProtocol."""
    if protocol is None or protocol == "any":
        return None
    if protocol in PROTOCOLS:
        return PROTOCOLS[protocol]
    if protocol.isdigit() and 0 <= int(protocol) <= 255:
        return int(protocol)
    raise exception.SecurityGroupRuleInvalidProtocol(
        protocol=protocol, values=sorted(k for k in PROTOCOLS if k != "any"))


class SecurityGroups(base.Component):

    def __init__(self, core: Any) -> None:
        super().__init__(core)
        # project id -> its default group's id (one server process owns the database).
        self._defaults: dict[str, str] = {}

    def rule_dict(self, row: models.SecurityGroupRule,
                  tags: dict[str, list[str]]) -> dict[str, Any]:
        out = {
            "id": row.id, "security_group_id": row.security_group_id,
            "direction": row.direction, "ethertype": row.ethertype,
            "protocol": row.protocol, "port_range_min": row.port_range_min,
            "port_range_max": row.port_range_max, "remote_ip_prefix": row.remote_ip_prefix,
            "remote_group_id": row.remote_group_id,
        }
        out.update(base.standard(row, tags))
        return out

    def to_dict(self, row: models.SecurityGroup, tags: dict[str, list[str]]) -> dict[str, Any]:
        out = {"id": row.id, "name": row.name, "stateful": row.stateful,
               "security_group_rules": [self.rule_dict(r, {}) for r in row.rules]}
        out.update(base.standard(row, tags))
        return out

    # -- default group ---------------------------------------------------------------

    def ensure_default(self, s: orm.Session, project_id: str) -> str:
        """The id of ``project_id``'s default group, created (with its rules) if missing.

        A concurrent creator makes the insert fail on the primary key of
        default_security_group; the caller's retry then finds the winner's group.
        """
        cached = self._defaults.get(project_id)
        if cached is not None:
            return cached
        found = s.get(models.DefaultSecurityGroup, project_id)
        if found is not None:
            # Committed already: safe to remember (a group made in this transaction
            # is not, it could still roll back). delete() forgets it.
            self._defaults[project_id] = found.security_group_id
            return found.security_group_id
        group = models.SecurityGroup(id=base.new_id(), project_id=project_id,
                                     name="default", stateful=True)
        base.init_standard(group, {"description": "Default security group"})
        s.add(group)
        s.flush()
        s.add(models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
        s.flush()
        for ethertype in ("IPv4", "IPv6"):
            for direction, remote in (("egress", None), ("ingress", group.id)):
                rule = models.SecurityGroupRule(
                    id=base.new_id(), project_id=project_id, security_group_id=group.id,
                    direction=direction, ethertype=ethertype, remote_group_id=remote)
                base.init_standard(rule, {})
                s.add(rule)
        s.flush()
        return group.id

    def default_group(self, project_id: str) -> str:
        """Like :meth:`ensure_default`, for callers outside a writing transaction: the
        lookup is a read, and a missing group is created (and committed) in a
        transaction of its own, so only the first request of a project writes."""
        cached = self._defaults.get(project_id)
        if cached is not None:
            return cached
        with self.db.reader() as s:
            found = s.scalar(sa.select(models.DefaultSecurityGroup.security_group_id).where(
                models.DefaultSecurityGroup.project_id == project_id))
        for attempt in range(5):
            if found is not None:
                break
            try:
                with self.db.writer() as s:
                    found = self.ensure_default(s, project_id)
            except sa_exc.IntegrityError:
                if attempt == 4:
                    raise
        assert found is not None
        self._defaults[project_id] = found
        return found

    def _ensure_default_for(self, ctxt: Any) -> None:
        project = base.project_of(ctxt)
        if project:
            self.default_group(project)

    # -- groups ----------------------------------------------------------------------

    def visible_query(self, ctxt: Any) -> Any:
        query = sa.select(models.SecurityGroup)
        if not base.is_admin(ctxt):
            query = query.where(models.SecurityGroup.project_id == base.project_of(ctxt))
        return query

    def get_row(self, s: orm.Session, ctxt: Any, group_id: str,
                for_project: str | None = None) -> models.SecurityGroup:
        row = s.scalar(self.visible_query(ctxt).where(models.SecurityGroup.id == group_id))
        if row is None and for_project is not None:
            row = s.scalar(sa.select(models.SecurityGroup).where(
                models.SecurityGroup.id == group_id,
                models.SecurityGroup.project_id == for_project))
        if row is None:
            raise exception.SecurityGroupNotFound(id=group_id)
        return row

    def check_usable(self, s: orm.Session, ctxt: Any, group_ids: list[str],
                     for_project: str) -> None:
        """As :meth:`get_row` for each of ``group_ids``, in one query and without
        loading the groups.

        :raises: SecurityGroupNotFound for the first one ``ctxt`` may neither see
            nor find in ``for_project``.
        """
        query = sa.select(models.SecurityGroup.id).where(
            models.SecurityGroup.id.in_(group_ids))
        if not base.is_admin(ctxt):
            query = query.where(models.SecurityGroup.project_id.in_(
                sorted({base.project_of(ctxt), for_project})))
        found = set(s.scalars(query))
        for group_id in group_ids:
            if group_id not in found:
                raise exception.SecurityGroupNotFound(id=group_id)

    def get(self, ctxt: Any, group_id: str) -> dict[str, Any]:
        self._ensure_default_for(ctxt)
        with self.db.reader() as s:
            return self.to_dict(self.get_row(s, ctxt, group_id),
                                base.load_tags(s, [group_id]))

    def get_all(self, ctxt: Any) -> list[dict[str, Any]]:
        self._ensure_default_for(ctxt)
        with self.db.reader() as s:
            rows = list(s.scalars(self.visible_query(ctxt)))
            tags = base.load_tags(s, [r.id for r in rows])
            return [self.to_dict(r, tags) for r in rows]

    @base.retry_db
    def create(self, ctxt: Any, body: dict[str, Any], attempt: int = 0) -> dict[str, Any]:
        project = body["project_id"]
        with self.db.writer() as s:
            if body["name"] == "default":
                raise exception.SecurityGroupDefaultAlreadyExists()
            self.ensure_default(s, project)
            base.check_quota(self.conf, s, "security_group", project)
            row = models.SecurityGroup(id=base.new_id(), project_id=project,
                                       name=body["name"], stateful=body["stateful"])
            base.init_standard(row, body)
            s.add(row)
            s.flush()
            for ethertype in ("IPv4", "IPv6"):
                rule = models.SecurityGroupRule(
                    id=base.new_id(), project_id=project, security_group_id=row.id,
                    direction="egress", ethertype=ethertype)
                base.init_standard(rule, {})
                s.add(rule)
            s.flush()
            s.refresh(row)
            return self.to_dict(row, {})

    def update(self, ctxt: Any, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, group_id)
            if row.name == "default" and body.get("name", "default") != "default":
                raise exception.InvalidInput(
                    error_message="Updating default security group not allowed.")
            if row.name != "default" and body.get("name") == "default":
                raise exception.SecurityGroupDefaultAlreadyExists()
            for key in ("name", "description", "stateful"):
                if key in body:
                    setattr(row, key, body[key])
            base.touch(row)
            s.flush()
            return self.to_dict(row, base.load_tags(s, [row.id]))

    def delete(self, ctxt: Any, group_id: str) -> None:
        with self.db.writer() as s:
            row = self.get_row(s, ctxt, group_id)
            default = s.get(models.DefaultSecurityGroup, row.project_id)
            if default is not None and default.security_group_id == row.id and \
                    not base.is_admin(ctxt):
                raise exception.SecurityGroupCannotRemoveDefault()
            if s.scalar(sa.select(models.SecurityGroupPortBinding.port_id).where(
                    models.SecurityGroupPortBinding.security_group_id == group_id).limit(1)):
                raise exception.SecurityGroupInUse(id=group_id, reason="in use")
            if default is not None and default.security_group_id == row.id:
                self._defaults.pop(row.project_id, None)
                s.delete(default)
            s.execute(sa.delete(models.SecurityGroupRule).where(
                models.SecurityGroupRule.remote_group_id == group_id))
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == group_id))
            s.delete(row)

    # -- rules -----------------------------------------------------------------------

    def rules_query(self, ctxt: Any) -> Any:
        query = sa.select(models.SecurityGroupRule)
        if not base.is_admin(ctxt):
            query = query.join(models.SecurityGroup,
                               models.SecurityGroup.id == models.SecurityGroupRule
                               .security_group_id).where(sa.or_(
                                   models.SecurityGroupRule.project_id == base.project_of(
                                       ctxt),
                                   models.SecurityGroup.project_id == base.project_of(ctxt)))
        return query

    def rule_row(self, s: orm.Session, ctxt: Any, rule_id: str) -> models.SecurityGroupRule:
        row = s.scalar(self.rules_query(ctxt).where(models.SecurityGroupRule.id == rule_id))
        if row is None:
            raise exception.SecurityGroupRuleNotFound(id=rule_id)
        return row

    def get_rule(self, ctxt: Any, rule_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self.rule_dict(self.rule_row(s, ctxt, rule_id), base.load_tags(s, [rule_id]))

    def list_rules(self, ctxt: Any) -> list[dict[str, Any]]:
        self._ensure_default_for(ctxt)
        with self.db.reader() as s:
            rows = list(s.scalars(self.rules_query(ctxt)))
            tags = base.load_tags(s, [r.id for r in rows])
            return [self.rule_dict(r, tags) for r in rows]

    @staticmethod
    def _validate_rule(body: dict[str, Any]) -> None:
        number = protocol_number(body.get("protocol"))
        low, high = body.get("port_range_min"), body.get("port_range_max")
        if number is None and (low is not None or high is not None):
            raise exception.SecurityGroupProtocolRequiredWithPorts()
        if number in _PORTED:
            for value in (low, high):
                if value is not None and not 1 <= value <= 65535:
                    raise exception.SecurityGroupInvalidPortValue(port=value)
            if (low is None and high is not None) or (
                    low is not None and high is not None and low > high):
                raise exception.SecurityGroupInvalidPortRange()
        elif number in _ICMP:
            for field, attr, value in (("type", "port_range_min", low),
                                       ("code", "port_range_max", high)):
                if value is not None and not 0 <= value <= 255:
                    raise exception.SecurityGroupInvalidIcmpValue(field=field, attr=attr,
                                                                  value=value)
            if low is None and high is not None:
                raise exception.SecurityGroupMissingIcmpType(value=high)
        elif low is not None or high is not None:
            raise exception.InvalidInput(
                error_message="Protocol %s does not support port ranges"
                % body.get("protocol"))
        prefix = body.get("remote_ip_prefix")
        if prefix is not None and body.get("remote_group_id") is not None:
            raise exception.SecurityGroupRemoteGroupAndRemoteIpPrefix()
        if prefix is not None:
            net = netaddr.IPNetwork(prefix)
            if "IPv%d" % net.version != body["ethertype"]:
                raise exception.SecurityGroupRuleParameterConflict(
                    ethertype=body["ethertype"], cidr=prefix)
            body["remote_ip_prefix"] = str(net.cidr)
        if body["ethertype"] == "IPv4" and body.get("protocol") in ("icmpv6", "ipv6-icmp"):
            raise exception.SecurityGroupRuleInvalidProtocol(
                protocol=body["protocol"], values="for IPv4")

    @staticmethod
    def _same(row: models.SecurityGroupRule, body: dict[str, Any]) -> bool:
        def norm_prefix(value: str | None) -> str | None:
            if value is None:
                return None
            net = netaddr.IPNetwork(value)
            return None if net.prefixlen == 0 else str(net.cidr)
        return (row.direction == body["direction"] and row.ethertype == body["ethertype"]
                and protocol_number(row.protocol) == protocol_number(body.get("protocol"))
                and row.port_range_min == body.get("port_range_min")
                and row.port_range_max == body.get("port_range_max")
                and norm_prefix(row.remote_ip_prefix) == norm_prefix(
                    body.get("remote_ip_prefix"))
                and row.remote_group_id == body.get("remote_group_id"))

    def create_rule(self, ctxt: Any, body: dict[str, Any]) -> dict[str, Any]:
        self._validate_rule(body)
        with self.db.writer() as s:
            group = self.get_row(s, ctxt, body["security_group_id"])
            if body.get("remote_group_id"):
                self.get_row(s, ctxt, body["remote_group_id"], for_project=group.project_id)
            for rule in group.rules:
                if self._same(rule, body):
                    raise exception.SecurityGroupRuleExists(rule_id=rule.id)
            project = body.get("project_id") or group.project_id
            base.check_quota(self.conf, s, "security_group_rule", project)
            row = models.SecurityGroupRule(
                id=base.new_id(), project_id=project, security_group_id=group.id,
                direction=body["direction"], ethertype=body["ethertype"],
                protocol=body.get("protocol"), port_range_min=body.get("port_range_min"),
                port_range_max=body.get("port_range_max"),
                remote_ip_prefix=body.get("remote_ip_prefix"),
                remote_group_id=body.get("remote_group_id"))
            base.init_standard(row, body)
            s.add(row)
            base.touch(group)
            s.flush()
            return self.rule_dict(row, {})

    def delete_rule(self, ctxt: Any, rule_id: str) -> None:
        with self.db.writer() as s:
            row = self.rule_row(s, ctxt, rule_id)
            group = s.get(models.SecurityGroup, row.security_group_id)
            if group is not None:
                base.touch(group)
            s.execute(sa.delete(models.Tag).where(models.Tag.resource_id == rule_id))
            s.delete(row)

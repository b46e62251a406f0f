"""Policy defaults of a server's security groups, under Nova's
``os-security-groups`` rule names: the server's project readers list them, its
members add and remove them; admins do everything."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import PROJECT_MEMBER, PROJECT_READER
from compute.policies.base import one as _rule

ACTION = "/v2.1/servers/{server_id}/action"


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-security-groups:list", PROJECT_READER, "List a server's security groups.",
              "GET", "/v2.1/servers/{server_id}/os-security-groups"),
        _rule("os-security-groups:add", PROJECT_MEMBER, "Add a security group to a server.",
              "POST", ACTION + " (addSecurityGroup)"),
        _rule("os-security-groups:remove", PROJECT_MEMBER,
              "Remove a security group from a server.", "POST",
              ACTION + " (removeSecurityGroup)"),
    ]

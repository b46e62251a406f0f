"""Policy defaults of security groups, under Nova's ``os-security-groups`` rule
names: a server's groups (its project readers list them, its members add and
remove them) and the deprecated proxy APIs before 2.36 (``get``, ``show``: the
caller's project readers; the changes: its members); admins do everything."""
from __future__ import annotations

from oslo_policy import policy

from compute.policies.base import PROJECT_MEMBER, PROJECT_READER
from compute.policies.base import one as _rule

ACTION = "/v2.1/servers/{server_id}/action"
GROUPS = "/v2.1/os-security-groups"
GROUP = GROUPS + "/{security_group_id}"
RULES = "/v2.1/os-security-group-rules"


def list_rules() -> list[policy.RuleDefault]:
    return [
        _rule("os-security-groups:list", PROJECT_READER, "List a server's security groups.",
              "GET", "/v2.1/servers/{server_id}/os-security-groups"),
        _rule("os-security-groups:add", PROJECT_MEMBER, "Add a security group to a server.",
              "POST", ACTION + " (addSecurityGroup)"),
        _rule("os-security-groups:remove", PROJECT_MEMBER,
              "Remove a security group from a server.", "POST",
              ACTION + " (removeSecurityGroup)"),
        _rule("os-security-groups:get", PROJECT_READER,
              "List security groups (deprecated proxy, before 2.36).", "GET", GROUPS),
        _rule("os-security-groups:show", PROJECT_READER,
              "Show a security group (deprecated proxy, before 2.36).", "GET", GROUP),
        _rule("os-security-groups:create", PROJECT_MEMBER,
              "Create a security group (deprecated proxy, before 2.36).", "POST", GROUPS),
        _rule("os-security-groups:update", PROJECT_MEMBER,
              "Update a security group (deprecated proxy, before 2.36).", "PUT", GROUP),
        _rule("os-security-groups:delete", PROJECT_MEMBER,
              "Delete a security group (deprecated proxy, before 2.36).", "DELETE", GROUP),
        _rule("os-security-groups:rule:create", PROJECT_MEMBER,
              "Create a security group rule (deprecated proxy, before 2.36).", "POST",
              RULES),
        _rule("os-security-groups:rule:delete", PROJECT_MEMBER,
              "Delete a security group rule (deprecated proxy, before 2.36).", "DELETE",
              RULES + "/{security_group_rule_id}"),
    ]

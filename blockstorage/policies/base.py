"""What every block storage policy module shares: the check strings of the
personas and a helper that documents the operations a rule guards.

Rule names are Cinder's (``volume:create``, ``volume_extension:...``), so a
policy file written for Cinder applies. The defaults are Cinder's current
ones: a project's readers read, its members act, admins do both everywhere
and alone do the admin actions.
"""
from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_api"
PROJECT_READER = ("rule:admin_api or ((role:reader or role:member) and "
                  "project_id:%(project_id)s)")
PROJECT_MEMBER = "rule:admin_api or (role:member and project_id:%(project_id)s)"
# Anyone with a role in some project (volume types, availability zones, limits).
ANY_READER = "rule:admin_api or role:reader or role:member"

# The rule Cinder's admin-only defaults name; ``admin_or_owner`` comes from
# common.policy.BASE_RULES.
ADMIN_API = policy.RuleDefault("admin_api", "rule:admin_required",
                               description="Default rule for most admin APIs.")

V3 = "/v3/{project_id}"


def rule(name: str, check: str, description: str,
         operations: list[tuple[str, str]]) -> policy.DocumentedRuleDefault:
    """Rule ``name`` guarding ``operations`` ((method, path) pairs, paths
    relative to ``/v3/{project_id}``)."""
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{"method": m, "path": V3 + p} for m, p in operations])


def one(name: str, check: str, description: str, method: str,
        path: str) -> policy.DocumentedRuleDefault:
    """A rule guarding one operation."""
    return rule(name, check, description, [(method, path)])

"""What every compute policy module shares: Nova's rule-name prefix and the
check strings of the personas (admin, project reader/member, any role)."""
from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_required"
READER = "role:reader or role:member or rule:admin_required"
PROJECT_READER = ("rule:admin_required or ((role:reader or role:member) and "
                  "project_id:%(project_id)s)")
PROJECT_MEMBER = "rule:admin_required or (role:member and project_id:%(project_id)s)"
SERVICE = "rule:admin_required or role:service"


def rule(name: str, check: str, description: str,
         operations: list[tuple[str, str]]) -> policy.DocumentedRuleDefault:
    """``os_compute_api:<name>`` guarding ``operations`` (method, path) pairs."""
    return policy.DocumentedRuleDefault(
        name="os_compute_api:" + name, check_str=check, description=description,
        operations=[{"method": m, "path": p} for m, p in operations])


def one(name: str, check: str, description: str, method: str,
        path: str) -> policy.DocumentedRuleDefault:
    """A rule guarding one operation."""
    return rule(name, check, description, [(method, path)])

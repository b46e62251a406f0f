"""Quota and limit policies: a project reads its own quotas, admins every
project's and alone change them (B1 creates, B2 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN, ANY_READER, PROJECT_READER
from blockstorage.policies.base import one as _rule

QUOTAS = "/os-quota-sets/{target_project_id}"

RULES: list[policy.RuleDefault] = [
    _rule("volume_extension:quotas:show", PROJECT_READER,
          "Show a project's quotas (its defaults, its usage).", "GET", QUOTAS),
    _rule("volume_extension:quotas:update", ADMIN, "Change a project's quotas.", "PUT",
          QUOTAS),
    _rule("volume_extension:quotas:delete", ADMIN,
          "Revert a project's quotas to the defaults.", "DELETE", QUOTAS),
    _rule("volume_extension:quota_classes", ADMIN, "Show or change quota classes.", "GET",
          "/os-quota-class-sets/{quota_class_name}"),
    _rule("limits_extension:used_limits", ANY_READER,
          "Show the used limits (totalVolumesUsed, ...).", "GET", "/limits"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

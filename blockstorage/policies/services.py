"""Policies of the admin views of the deployment: services, backend pools and
capabilities, hosts (B1 creates, B2 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN
from blockstorage.policies.base import one as _rule

RULES: list[policy.RuleDefault] = [
    _rule("volume_extension:services:index", ADMIN, "List block storage services.", "GET",
          "/os-services"),
    _rule("volume_extension:services:update", ADMIN,
          "Enable, disable or freeze a service.", "PUT", "/os-services/{action}"),
    _rule("volume_extension:capabilities", ADMIN, "Show a backend's capabilities.", "GET",
          "/capabilities/{host_name}"),
    _rule("scheduler_extension:scheduler_stats:get_pools", ADMIN,
          "List the backend pools and their capacity.", "GET",
          "/scheduler-stats/get_pools"),
    _rule("volume_extension:hosts", ADMIN, "List or show volume hosts.", "GET",
          "/os-hosts"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

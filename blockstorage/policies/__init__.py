"""Block storage policy defaults, in code, under Cinder's rule names.

One module per resource (``volumes``, ``snapshots``, ``types``, ``attachments``,
``backups``, ``quotas``, ``services``), each with a ``RULES`` list its API
owner extends; this module gathers them with the ``admin_api`` rule.
"""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies import attachments, backups, quotas, services, snapshots, types
from blockstorage.policies import volumes
from blockstorage.policies.base import ADMIN_API

_MODULES = (volumes, snapshots, types, attachments, backups, quotas, services)


def list_rules() -> list[policy.RuleDefault]:
    """Every block storage rule (``common.policy.BASE_RULES`` are added by the
    Enforcer)."""
    rules: list[policy.RuleDefault] = [ADMIN_API]
    for module in _MODULES:
        rules.extend(module.list_rules())
    return rules

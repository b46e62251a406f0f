"""oslo.policy glue: one enforcer per service, checks only through ``context.can``."""
from __future__ import annotations

from typing import Any, Iterable

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from common import exception

# Rules every service shares; services build theirs from these names.
BASE_RULES = [
    oslo_policy.RuleDefault("admin_required", "role:admin or is_admin:1"),
    oslo_policy.RuleDefault("service_role", "role:service"),
    oslo_policy.RuleDefault("reader_any", "role:reader"),
    oslo_policy.RuleDefault(
        "system_reader", "rule:admin_required or (role:reader and system_scope:all)"),
    oslo_policy.RuleDefault(
        "project_member", "role:member and project_id:%(project_id)s"),
    oslo_policy.RuleDefault(
        "project_reader", "role:reader and project_id:%(project_id)s"),
    oslo_policy.RuleDefault(
        "admin_or_owner", "rule:admin_required or project_id:%(project_id)s"),
]


class Enforcer:
    """Wraps oslo.policy's Enforcer with our defaults and exception type."""

    def __init__(self, conf: cfg.ConfigOpts, rules: Iterable[oslo_policy.RuleDefault]) -> None:
        self._enforcer = oslo_policy.Enforcer(conf)
        self._enforcer.register_defaults(BASE_RULES)
        self._enforcer.register_defaults(list(rules))
        self._loaded = False

    def authorize(self, ctxt: Any, action: str, target: dict[str, Any],
                  fatal: bool = True) -> bool:
        creds = ctxt.to_policy_values()
        try:
            return bool(self._enforcer.authorize(
                action, flatten(target), creds, do_raise=fatal,
                exc=exception.PolicyNotAuthorized, action=action))
        except oslo_policy.PolicyNotRegistered:
            raise exception.PolicyNotAuthorized(action=action)

    @property
    def rules(self) -> Any:
        return self._enforcer.registered_rules


def flatten(target: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested targets as dotted keys (``target.user.id``); None values dropped so
    that a missing attribute never matches a missing credential."""
    flat: dict[str, Any] = {}
    for key, value in target.items():
        name = prefix + key
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif value is not None:
            flat[name] = value
    return flat

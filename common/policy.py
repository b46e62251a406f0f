"""oslo.policy glue: one enforcer per service, checks only through ``context.can``.

Decisions are memoised: a policy decision is a pure function of the rule, the
target and the caller's credentials, and oslo.policy spends far more time
re-reading its rule file and introspecting check functions than our requests
take otherwise. The memo is dropped whenever the rules are reloaded.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Hashable, Iterable

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

_RELOAD_SECONDS = 5.0
_MEMO_SIZE = 20000


class Enforcer:
    """Wraps oslo.policy's Enforcer with our defaults, exception type and memo."""

    def __init__(self, conf: cfg.ConfigOpts, rules: Iterable[oslo_policy.RuleDefault]) -> None:
        self._enforcer = oslo_policy.Enforcer(conf)
        self._enforcer.register_defaults(BASE_RULES)
        self._enforcer.register_defaults(list(rules))
        self._memo: dict[Hashable, bool] = {}
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._rules_id = 0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < _RELOAD_SECONDS:
            return
        with self._lock:
            self._checked_at = now
            self._enforcer.load_rules()
            if id(self._enforcer.rules) != self._rules_id:
                self._rules_id = id(self._enforcer.rules)
                self._memo.clear()

    def authorize(self, ctxt: Any, action: str, target: dict[str, Any],
                  fatal: bool = True) -> bool:
        """Check ``action``; :raises: PolicyNotAuthorized when ``fatal`` and denied."""
        self._refresh()
        flat = flatten(target)
        creds = ctxt.to_policy_values()
        key = _key(action, flat, creds)
        allowed = self._memo.get(key) if key is not None else None
        if allowed is None:
            if action not in self._enforcer.registered_rules:
                raise exception.PolicyNotAuthorized(action=action)
            allowed = bool(self._enforcer.enforce(action, flat, creds, do_raise=False))
            if key is not None:
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
                self._memo[key] = allowed
        if not allowed and fatal:
            raise exception.PolicyNotAuthorized(action=action)
        return allowed

    def bind(self, ctxt: Any) -> None:
        """Give ``ctxt`` this enforcer (for ``ctxt.can``) and its admin flag."""
        if ctxt is None:
            return
        ctxt.enforcer = self
        ctxt.is_admin = "admin" in (ctxt.roles or [])

    @property
    def rules(self) -> Any:
        return self._enforcer.registered_rules


def _freeze(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(value)
    return value  # type: ignore[no-any-return]


def _key(action: str, flat: dict[str, Any], creds: dict[str, Any]) -> Hashable | None:
    try:
        key = (action, tuple(sorted((k, _freeze(v)) for k, v in flat.items())),
               tuple(sorted((k, _freeze(v)) for k, v in creds.items())))
        hash(key)
        return key
    except TypeError:
        return None


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

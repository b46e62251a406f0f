"""The request context: who is calling, in which scope, under which request id."""
from __future__ import annotations

import copy
from typing import Any

from oslo_context import context as oslo_context

from common import exception


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context plus a policy hook (``can``)."""

    def __init__(self, *args: Any, enforcer: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enforcer = enforcer

    def can(self, action: str, target: dict[str, Any] | None = None,
            fatal: bool = True) -> bool:
        """Check policy ``action`` for this context against ``target``.

        :raises: PolicyNotAuthorized when ``fatal`` and the check fails.
        """
        if self.enforcer is None:
            raise exception.PolicyNotAuthorized(action=action)
        return bool(self.enforcer.authorize(self, action, target or {}, fatal=fatal))

    @property
    def is_system_scope(self) -> bool:
        return self.system_scope == "all"

    def elevated(self) -> RequestContext:
        """An admin copy of this context (same ids, names and service identity).

        A shallow copy rather than to_dict()/from_dict(): to_dict() drops the
        names and service-token fields, and constructing a context replaces the
        thread's current context.
        """
        ctx = copy.copy(self)
        ctx.is_admin = True
        ctx.roles = list(self.roles)
        if "admin" not in ctx.roles:
            ctx.roles.append("admin")
        return ctx


def admin_context(request_id: str | None = None) -> RequestContext:
    """A context for daemons acting on their own behalf (periodic tasks)."""
    kwargs: dict[str, Any] = {"is_admin": True, "roles": ["admin"],
                              "overwrite": False}
    if request_id:
        kwargs["request_id"] = request_id
    return RequestContext(**kwargs)

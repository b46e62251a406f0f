"""Tell the bridge agents (fanout casts on topic ``bridge_agent``) after ports,
networks and security group rules change.

:func:`install` wraps the components' writers: the casts are sent after the
method returned, i.e. after its transaction committed. Best effort: without RPC
(unit tests, tools) nothing is sent, and a failure to send is logged, never raised
to the API caller (the agents' periodic resync catches up).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging

from common import rpc
from network.agents.bridge import rpcapi as bridge_rpcapi
from network.db import models

LOG = logging.getLogger(__name__)

# Port attributes whose change changes what other ports' remote-group rules allow.
_MEMBERSHIP_KEYS = ("security_groups", "fixed_ips", "allowed_address_pairs")


class Notifier:
    """Sends the casts; ``api`` may be given (tests), else made on first use."""

    def __init__(self, api: Any = None) -> None:
        self._api = api

    def _send(self, ctxt: Any, method: str, **kwargs: Any) -> None:
        if self._api is None:
            if not rpc.initialized():
                return
            try:
                self._api = bridge_rpcapi.BridgeAgentAPI()
            except Exception:
                LOG.exception("Could not build the bridge agents' RPC client")
                return
        try:
            getattr(self._api, method)(ctxt, **kwargs)
        except Exception:  # best effort: the agents resync periodically
            LOG.exception("Could not send %(method)s to the bridge agents",
                          {"method": method})

    def port_update(self, ctxt: Any, port_id: str) -> None:
        self._send(ctxt, "port_update", port_id=port_id)

    def port_delete(self, ctxt: Any, port_id: str) -> None:
        self._send(ctxt, "port_delete", port_id=port_id)

    def network_delete(self, ctxt: Any, network_id: str) -> None:
        self._send(ctxt, "network_delete", network_id=network_id)

    def rule_updated(self, ctxt: Any, groups: list[str]) -> None:
        if groups:
            self._send(ctxt, "security_groups_rule_updated", security_groups=sorted(groups))

    def member_updated(self, ctxt: Any, groups: list[str]) -> None:
        if groups:
            self._send(ctxt, "security_groups_member_updated",
                       security_groups=sorted(groups))


def _port_groups(core: Any, port_id: str) -> list[str]:
    with core.db.reader() as s:
        return list(s.scalars(sa.select(models.SecurityGroupPortBinding.security_group_id)
                              .where(models.SecurityGroupPortBinding.port_id == port_id)))


def _rule_group(core: Any, rule_id: str) -> str | None:
    with core.db.reader() as s:
        found: str | None = s.scalar(sa.select(models.SecurityGroupRule.security_group_id)
                                     .where(models.SecurityGroupRule.id == rule_id))
        return found


def _membership(port: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(repr(port.get(k)) for k in _MEMBERSHIP_KEYS)


Wrapped = Callable[..., Any]


def _port_create(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, *args: Any, **kwargs: Any) -> Any:
        port = func(ctxt, *args, **kwargs)
        if isinstance(port, dict):
            notifier.member_updated(ctxt, list(port.get("security_groups") or []))
        return port
    return wrapper


def _port_update(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, port_id: str, body: Any, *args: Any, **kwargs: Any) -> Any:
        # Only these keys change a port's membership: without them (a binding, a
        # name) there is nothing to compare and no port to read first.
        watched = isinstance(body, dict) and any(k in body for k in _MEMBERSHIP_KEYS)
        before = None
        if watched:
            try:
                before = core.ports.get(ctxt, port_id)
            except Exception:
                pass  # the update itself reports a missing or hidden port
        port = func(ctxt, port_id, body, *args, **kwargs)
        notifier.port_update(ctxt, port_id)
        if watched and isinstance(port, dict) and (
                before is None or _membership(before) != _membership(port)):
            old = set(before["security_groups"]) if before else set()
            notifier.member_updated(ctxt, sorted(old | set(port["security_groups"])))
        return port
    return wrapper


def _port_delete(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, port_id: str, *args: Any, **kwargs: Any) -> Any:
        was = _port_groups(core, port_id)
        result = func(ctxt, port_id, *args, **kwargs)
        notifier.port_delete(ctxt, port_id)
        notifier.member_updated(ctxt, was)
        return result
    return wrapper


def _network_delete(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, network_id: str, *args: Any, **kwargs: Any) -> Any:
        result = func(ctxt, network_id, *args, **kwargs)
        notifier.network_delete(ctxt, network_id)
        return result
    return wrapper


def _rule_create(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, *args: Any, **kwargs: Any) -> Any:
        rule = func(ctxt, *args, **kwargs)
        if isinstance(rule, dict):
            notifier.rule_updated(ctxt, [rule["security_group_id"]])
        return rule
    return wrapper


def _rule_delete(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    def wrapper(ctxt: Any, rule_id: str, *args: Any, **kwargs: Any) -> Any:
        group = _rule_group(core, rule_id)
        result = func(ctxt, rule_id, *args, **kwargs)
        notifier.rule_updated(ctxt, [group] if group else [])
        return result
    return wrapper


def _group_delete(notifier: Notifier, core: Any, func: Wrapped) -> Wrapped:
    # Deleting a group deletes the other groups' rules naming it as remote group.
    def wrapper(ctxt: Any, group_id: str, *args: Any, **kwargs: Any) -> Any:
        with core.db.reader() as s:
            referring = sorted(set(s.scalars(
                sa.select(models.SecurityGroupRule.security_group_id).where(
                    models.SecurityGroupRule.remote_group_id == group_id))))
        result = func(ctxt, group_id, *args, **kwargs)
        notifier.rule_updated(ctxt, [g for g in referring if g != group_id])
        return result
    return wrapper


_WRAPS = (("ports", "create", _port_create), ("ports", "update", _port_update),
          ("ports", "delete", _port_delete), ("networks", "delete", _network_delete),
          ("security_groups", "create_rule", _rule_create),
          ("security_groups", "delete_rule", _rule_delete),
          ("security_groups", "delete", _group_delete))


def install(core: Any, notifier: Notifier | None = None) -> Notifier:
    """Wrap ``core``'s port, network and security group writers so they notify the
    bridge agents."""
    notifier = notifier or Notifier()
    for component, name, make in _WRAPS:
        obj = getattr(core, component)
        func = getattr(obj, name)
        setattr(obj, name, functools.wraps(func)(make(notifier, core, func)))
    return notifier

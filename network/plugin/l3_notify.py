"""Tell the L3 agents (fanout casts ``routers_updated`` / ``router_deleted``) after
routers, their interfaces, floating IPs and router scheduling change.

:func:`install` wraps the components' writers: the cast is sent after the method
returned, i.e. after its transaction committed. Best effort, like
:mod:`network.plugin.dhcp_notify`: without RPC nothing is sent, and a failure to
send is logged, never raised to the API caller (the agents resync periodically).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging

from common import rpc
from network.agents.l3 import rpcapi as l3_rpcapi
from network.db import models

LOG = logging.getLogger(__name__)


class Notifier:

    def __init__(self) -> None:
        self._api: Any = None

    def _client(self) -> Any:
        if self._api is None:
            self._api = l3_rpcapi.L3AgentAPI()
        return self._api

    def routers_updated(self, ctxt: Any, router_ids: list[str]) -> None:
        router_ids = sorted({r for r in router_ids if r})
        if not router_ids or not rpc.initialized():
            return
        try:
            self._client().routers_updated(ctxt, router_ids)
        except Exception:  # best effort: the agents resync periodically
            LOG.exception("Could not notify the L3 agents of routers %(ids)s",
                          {"ids": router_ids})

    def router_deleted(self, ctxt: Any, router_id: str) -> None:
        if not router_id or not rpc.initialized():
            return
        try:
            self._client().router_deleted(ctxt, router_id)
        except Exception:  # best effort: the agents resync periodically
            LOG.exception("Could not notify the L3 agents of router %(id)s deletion",
                          {"id": router_id})


def _fip_router(core: Any, fip_id: str) -> list[str]:
    with core.db.reader() as s:
        found = s.scalar(sa.select(models.FloatingIP.router_id).where(
            models.FloatingIP.id == fip_id))
        return [found] if found else []


def _port_routers(core: Any, port_id: str) -> list[str]:
    """Routers with a floating IP on ``port_id`` (deleting it disassociates them)."""
    with core.db.reader() as s:
        return [r for r in s.scalars(sa.select(models.FloatingIP.router_id).where(
            models.FloatingIP.fixed_port_id == port_id)) if r]


def install(core: Any, notifier: Notifier | None = None) -> Notifier:
    """Wrap ``core``'s router, floating IP, port-delete and L3 scheduling writers
    so they notify the L3 agents."""
    notifier = notifier or Notifier()

    def updated(func: Callable[..., Any],
                before: Callable[[tuple[Any, ...]], list[str]] | None,
                after: Callable[[Any, tuple[Any, ...]], list[str]]) -> Any:
        @functools.wraps(func)
        def wrapper(ctxt: Any, *args: Any, **kwargs: Any) -> Any:
            ids = before(args) if before is not None else []
            result = func(ctxt, *args, **kwargs)
            notifier.routers_updated(ctxt, ids + after(result, args))
            return result
        return wrapper

    def result_id(result: Any, args: tuple[Any, ...]) -> list[str]:
        return [result["id"]] if isinstance(result, dict) and result.get("id") else []

    def result_router(result: Any, args: tuple[Any, ...]) -> list[str]:
        found = result.get("router_id") if isinstance(result, dict) else None
        return [found] if found else []

    def first_arg(result: Any, args: tuple[Any, ...]) -> list[str]:
        return [str(args[0])] if args else []

    def none(result: Any, args: tuple[Any, ...]) -> list[str]:
        return []

    def fip_before(args: tuple[Any, ...]) -> list[str]:
        return _fip_router(core, str(args[0])) if args else []

    def port_before(args: tuple[Any, ...]) -> list[str]:
        return _port_routers(core, str(args[0])) if args else []

    routers, fips, ports = core.routers, core.floatingips, core.ports
    routers.create = updated(routers.create, None, result_id)
    routers.update = updated(routers.update, None, result_id)
    routers.add_interface = updated(routers.add_interface, None, first_arg)
    routers.remove_interface = updated(routers.remove_interface, None, first_arg)
    fips.create = updated(fips.create, None, result_router)
    fips.update = updated(fips.update, fip_before, result_router)
    fips.delete = updated(fips.delete, fip_before, none)
    ports.delete = updated(ports.delete, port_before, none)

    delete = routers.delete

    @functools.wraps(delete)
    def delete_router(ctxt: Any, router_id: str, *args: Any, **kwargs: Any) -> Any:
        result = delete(ctxt, router_id, *args, **kwargs)
        notifier.router_deleted(ctxt, router_id)
        return result
    routers.delete = delete_router

    return notifier

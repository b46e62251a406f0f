"""Tell the DHCP agents (fanout cast ``network_changed``) after networks, subnets,
ports and router interfaces change.

:func:`install` wraps the components' create/update/delete methods: the cast is
sent after the method returned, i.e. after its transaction committed. It is best
effort: without RPC (unit tests, tools) nothing is sent, and a failure to send is
logged, never raised to the API caller (the agents' periodic resync catches up).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from oslo_log import log as logging

from common import rpc
from network.db import models

LOG = logging.getLogger(__name__)


class Notifier:

    def __init__(self) -> None:
        self._api: Any = None

    def network_changed(self, ctxt: Any, network_id: str | None) -> None:
        if not network_id or not rpc.initialized():
            return
        try:
            if self._api is None:
                from network.agents.dhcp import rpcapi as dhcp_rpcapi
                self._api = dhcp_rpcapi.DhcpAgentAPI()
            self._api.network_changed(ctxt, network_id)
        except Exception:  # best effort: the agents resync periodically
            LOG.exception("Could not notify the DHCP agents of network %(net)s",
                          {"net": network_id})


def _network_of(core: Any, model: Any, obj_id: str) -> str | None:
    with core.db.reader() as s:
        found: str | None = s.scalar(sa.select(model.network_id).where(model.id == obj_id))
        return found


def install(core: Any, notifier: Notifier | None = None) -> Notifier:
    """Wrap ``core``'s network/subnet/port writers so they notify the DHCP agents."""
    notifier = notifier or Notifier()

    def after(func: Callable[..., Any], net_of_result: Callable[[Any, tuple[Any, ...]],
                                                               str | None]) -> Any:
        @functools.wraps(func)
        def wrapper(ctxt: Any, *args: Any, **kwargs: Any) -> Any:
            result = func(ctxt, *args, **kwargs)
            notifier.network_changed(ctxt, net_of_result(result, args))
            return result
        return wrapper

    def before(func: Callable[..., Any], model: Any) -> Any:
        @functools.wraps(func)
        def wrapper(ctxt: Any, obj_id: str, *args: Any, **kwargs: Any) -> Any:
            net_id = _network_of(core, model, obj_id)
            result = func(ctxt, obj_id, *args, **kwargs)
            notifier.network_changed(ctxt, net_id)
            return result
        return wrapper

    def by_id(result: Any, args: tuple[Any, ...]) -> str | None:
        return result.get("id") if isinstance(result, dict) else None

    def by_network(result: Any, args: tuple[Any, ...]) -> str | None:
        return result.get("network_id") if isinstance(result, dict) else None

    def by_arg(result: Any, args: tuple[Any, ...]) -> str | None:
        return str(args[0]) if args else None

    nets, subnets, ports = core.networks, core.subnets, core.ports
    nets.create = after(nets.create, by_id)
    nets.update = after(nets.update, by_id)
    nets.delete = after(nets.delete, by_arg)
    subnets.create = after(subnets.create, by_network)
    subnets.update = after(subnets.update, by_network)
    subnets.delete = before(subnets.delete, models.Subnet)
    ports.create = after(ports.create, by_network)
    ports.update = after(ports.update, by_network)
    ports.delete = before(ports.delete, models.Port)
    # A router on a subnet decides whether the DHCP namespace serves metadata.
    routers = core.routers
    routers.add_interface = after(routers.add_interface, by_network)
    routers.remove_interface = after(routers.remove_interface, by_network)
    return notifier

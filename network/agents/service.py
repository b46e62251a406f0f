"""What every network agent process shares: its options (no [database], no [api]:
agents hold no database credentials), its heartbeat to stratus-network-server and
the way it starts.

An agent command supplies its options, its agent type and a manager; :func:`main`
does the rest: configuration, RPC, one heartbeat before the first resync (the
server schedules networks and routers only to agents it knows, and peers find a
bridge agent by its heartbeat), then serving until a signal.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from common import conf as common_conf
from common import context
from common import rpc
from common import rpc_service
from common import service
from network import rpcapi

EXMODS = ["network.exception"]

REPORT_OPTS: list[cfg.Opt] = [
    cfg.FloatOpt("report_interval", default=10.0, min=0.01,
                 help="Seconds between two heartbeats sent to the network server."),
]


def register_report_opts(conf: cfg.ConfigOpts) -> None:
    """``[agent] report_interval`` (idempotent)."""
    conf.register_opts(REPORT_OPTS, group="agent")


def options(register: Callable[[cfg.ConfigOpts], None]) -> Callable[[cfg.ConfigOpts], None]:
    """The registration function of an agent whose own options ``register`` adds."""
    def register_all(conf: cfg.ConfigOpts) -> None:
        conf.register_opts(common_conf.DEFAULT_OPTS)
        rpc.register_opts(conf)
        rpc_service.register_opts(conf)
        register_report_opts(conf)
        register(conf)
    return register_all


class StateReporter:
    """Sends the agent's heartbeat (``start_flag`` on the first one only)."""

    def __init__(self, conf: cfg.ConfigOpts, agent_type: str, binary: str, topic: str,
                 configurations: Callable[[], dict[str, Any]]) -> None:
        self._api = rpcapi.PluginAPI(conf)
        self._conf = conf
        self._state = {"agent_type": agent_type, "binary": binary, "topic": topic}
        self._configurations = configurations
        self._first = True

    def report(self, ctxt: Any = None) -> dict[str, Any]:
        """:raises: whatever the RPC call raises (the caller logs and retries)."""
        found = self._api.report_state(ctxt or context.admin_context(), dict(
            self._state, host=self._conf.host, configurations=self._configurations(),
            start_flag=self._first))
        self._first = False
        return found

    def __call__(self, ctxt: Any, binary: str, host: str, topic: str) -> None:
        """RPCService's ``report_state`` callback."""
        self.report(ctxt)


def rpc_agent(conf: cfg.ConfigOpts, manager: Any, topic: str, agent_type: str,
              binary: str) -> rpc_service.RPCService:
    """An RPCService serving ``manager`` on ``topic`` with heartbeats of
    ``agent_type`` (its configurations from ``manager.configurations()``)."""
    # RPCService paces heartbeats by [DEFAULT] report_interval; agents set [agent].
    conf.set_override("report_interval", conf.agent.report_interval)
    reporter = StateReporter(conf, agent_type, binary, topic, manager.configurations)
    return rpc_service.RPCService(conf, manager, topic, conf.host, report_state=reporter,
                                  binary=binary)


def main(binary: str, register: Callable[[cfg.ConfigOpts], None],
         build: Callable[[cfg.ConfigOpts], rpc_service.RPCService]) -> None:
    """Run an RPC agent: ``register`` its options, ``build`` its service, serve."""
    conf = service.prepare("network", sys.argv, options(register), prog=binary)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    agent = build(conf)
    agent.report_state()
    rpc_service.run_rpc(conf, agent)
    sys.exit(0)

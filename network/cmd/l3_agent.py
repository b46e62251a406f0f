"""``stratus-network-l3-agent``: routers as ``qrouter-<id>`` namespaces (interfaces,
SNAT, floating IPs, extra routes, a metadata proxy each).

Runs as root on the hosts that route; talks to stratus-network-server over RPC
only (no database credentials): heartbeats on ``network-plugin``, router syncs
and status reports on its ``l3`` namespace, change notifications on the
``l3_agent`` fanout topic.
"""
from __future__ import annotations

import sys
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common import conf as common_conf
from common import rpc
from common import rpc_service
from common import service
from network import rpcapi
from network.agents.l3 import config as l3_config
from network.agents.l3 import driver as l3_driver
from network.agents.l3 import manager as l3_manager
from network.agents.l3 import rpcapi as l3_rpcapi

LOG = logging.getLogger(__name__)
EXMODS = ["network.exception"]
BINARY = "stratus-network-l3-agent"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """The agent's options: no [database], no [api] (it holds no DB credentials)."""
    conf.register_opts(common_conf.DEFAULT_OPTS)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    l3_config.register_opts(conf)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called)."""
    # RPCService paces heartbeats by [DEFAULT] report_interval; agents set [agent].
    conf.set_override("report_interval", conf.agent.report_interval)
    plugin_api = rpcapi.PluginAPI(conf)
    driver = l3_driver.IpDriver(conf.l3.ip_binary, conf.l3.iptables_restore_binary,
                                conf.l3.arping_binary)
    manager = l3_manager.L3AgentManager(conf, l3_rpcapi.L3PluginAPI(), driver, conf.host)
    started = {"first": True}

    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        plugin_api.report_state(ctxt, {
            "agent_type": l3_rpcapi.L3_AGENT_TYPE, "binary": binary, "host": host,
            "topic": topic, "configurations": manager.configurations(),
            "start_flag": started["first"]})
        started["first"] = False

    return rpc_service.RPCService(conf, manager, l3_rpcapi.TOPIC, conf.host,
                                  report_state=report_state, binary=BINARY)


def main() -> None:
    conf = service.prepare("network", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    agent = build(conf)
    # Registered before the first resync (which runs at start): the server only
    # schedules routers to agents it knows. A failure is logged; the next
    # heartbeat and resync catch up.
    agent.report_state()
    rpc_service.run_rpc(conf, agent)
    sys.exit(0)


if __name__ == "__main__":
    main()

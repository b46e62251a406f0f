"""``stratus-network-dhcp-agent``: dnsmasq in a namespace per network with DHCP.

Runs as root on the hosts that serve DHCP; talks to stratus-network-server over
RPC only (no database credentials): heartbeats and resyncs on ``network-plugin``,
change notifications on the ``dhcp_agent`` fanout topic.
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
from network.agents.dhcp import config as dhcp_config
from network.agents.dhcp import driver as dhcp_driver
from network.agents.dhcp import manager as dhcp_manager
from network.agents.dhcp import rpcapi as dhcp_rpcapi

LOG = logging.getLogger(__name__)
EXMODS = ["network.exception"]
BINARY = "stratus-network-dhcp-agent"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """The agent's options: no [database], no [api] (it holds no DB credentials)."""
    conf.register_opts(common_conf.DEFAULT_OPTS)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    dhcp_config.register_opts(conf)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called)."""
    # RPCService paces heartbeats by [DEFAULT] report_interval; agents set [agent].
    conf.set_override("report_interval", conf.agent.report_interval)
    plugin_api = rpcapi.PluginAPI(conf)
    manager = dhcp_manager.DhcpAgentManager(
        conf, plugin_api, dhcp_driver.IpDriver(conf.dhcp.ip_binary), conf.host)
    started = {"first": True}

    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        plugin_api.report_state(ctxt, {
            "agent_type": rpcapi.DHCP_AGENT_TYPE, "binary": binary, "host": host,
            "topic": topic, "configurations": manager.configurations(),
            "start_flag": started["first"]})
        started["first"] = False

    return rpc_service.RPCService(conf, manager, dhcp_rpcapi.TOPIC, conf.host,
                                  report_state=report_state, binary=BINARY)


def main() -> None:
    conf = service.prepare("network", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    agent = build(conf)
    # Registered before the first resync (which runs at start): the server only
    # schedules networks to agents it knows. A failure is logged; the next
    # heartbeat and resync catch up.
    agent.report_state()
    rpc_service.run_rpc(conf, agent)
    sys.exit(0)


if __name__ == "__main__":
    main()

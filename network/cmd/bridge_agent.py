"""``stratus-network-bridge-agent``: the Linux-bridge L2 agent.

Runs as root on every host with guests or network namespaces; talks to
stratus-network-server over RPC only (no database credentials): heartbeats on
``network-plugin``, device details and status on ``network-plugin`` namespace
``l2``, change notifications on the ``bridge_agent`` fanout topic.
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
from network.agents.bridge import config as bridge_config
from network.agents.bridge import driver as bridge_driver
from network.agents.bridge import firewall as bridge_firewall
from network.agents.bridge import manager as bridge_manager
from network.agents.bridge import plugin_api
from network.agents.bridge import rpcapi as bridge_rpcapi

LOG = logging.getLogger(__name__)
EXMODS = ["network.exception"]
BINARY = "stratus-network-bridge-agent"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """The agent's options: no [database], no [api] (it holds no DB credentials)."""
    conf.register_opts(common_conf.DEFAULT_OPTS)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    bridge_config.register_opts(conf)


def make_firewall(conf: cfg.ConfigOpts,
                  driver: bridge_driver.Driver) -> bridge_firewall.Firewall:
    if not conf.securitygroup.enable_security_group or \
            conf.securitygroup.firewall_driver == "noop":
        return bridge_firewall.NoopFirewall()
    return bridge_firewall.IptablesFirewall(driver)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called).

    :raises: ValueError on malformed interface or bridge mappings.
    """
    # RPCService paces heartbeats by [DEFAULT] report_interval; agents set [agent].
    conf.set_override("report_interval", conf.agent.report_interval)
    server_api = rpcapi.PluginAPI(conf)
    driver = bridge_driver.IpDriver(conf.linux_bridge.ip_binary,
                                    conf.linux_bridge.bridge_binary,
                                    conf.securitygroup.iptables_restore_binary)
    manager = bridge_manager.BridgeAgentManager(
        conf, plugin_api.L2PluginAPI(), driver, make_firewall(conf, driver), conf.host)
    started = {"first": True}

    def report_state(ctxt: Any, binary: str, host: str, topic: str) -> None:
        server_api.report_state(ctxt, {
            "agent_type": plugin_api.AGENT_TYPE, "binary": binary, "host": host,
            "topic": topic, "configurations": manager.configurations(),
            "start_flag": started["first"]})
        started["first"] = False

    return rpc_service.RPCService(conf, manager, bridge_rpcapi.TOPIC, conf.host,
                                  report_state=report_state, binary=BINARY)


def main() -> None:
    conf = service.prepare("network", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    agent = build(conf)
    # Registered (with its tunneling_ip) before the first pass: peers find it.
    agent.report_state()
    rpc_service.run_rpc(conf, agent)
    sys.exit(0)


if __name__ == "__main__":
    main()

"""``stratus-network-bridge-agent``: the Linux-bridge L2 agent.

Runs as root on every host with guests or network namespaces; talks to
stratus-network-server over RPC only (no database credentials): heartbeats on
``network-plugin``, device details and status on ``network-plugin`` namespace
``l2``, change notifications on the ``bridge_agent`` fanout topic.
"""
from __future__ import annotations

from oslo_config import cfg

from common import rpc_service
from network.agents import service as agent_service
from network.agents.bridge import config as bridge_config
from network.agents.bridge import driver as bridge_driver
from network.agents.bridge import firewall as bridge_firewall
from network.agents.bridge import manager as bridge_manager
from network.agents.bridge import plugin_api
from network.agents.bridge import rpcapi as bridge_rpcapi

BINARY = "stratus-network-bridge-agent"
register_opts = agent_service.options(bridge_config.register_opts)


def make_firewall(conf: cfg.ConfigOpts,
                  driver: bridge_driver.Driver) -> bridge_firewall.Firewall:
    if not conf.securitygroup.enable_security_group or \
            conf.securitygroup.firewall_driver == "noop":
        return bridge_firewall.NoopFirewall()
    return bridge_firewall.IptablesFirewall(driver,
                                            bridge_firewall.Chains.for_host(conf.host))


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called).

    :raises: ValueError on malformed interface or bridge mappings.
    """
    driver = bridge_driver.IpDriver(conf.linux_bridge.ip_binary,
                                    conf.linux_bridge.bridge_binary,
                                    conf.securitygroup.iptables_restore_binary)
    manager = bridge_manager.BridgeAgentManager(
        conf, plugin_api.L2PluginAPI(), driver, make_firewall(conf, driver), conf.host)
    return agent_service.rpc_agent(conf, manager, bridge_rpcapi.TOPIC,
                                   plugin_api.AGENT_TYPE, BINARY)


def main() -> None:
    agent_service.main(BINARY, bridge_config.register_opts, build)


if __name__ == "__main__":
    main()

"""``stratus-network-l3-agent``: a namespace per router with its interfaces, SNAT,
floating IPs and metadata proxy.

Runs as root; talks to stratus-network-server over RPC only (no database
credentials): heartbeats on ``network-plugin``, routers on ``network-plugin``
namespace ``l3``, change notifications on the ``l3_agent`` fanout topic.
"""
from __future__ import annotations

from oslo_config import cfg

from common import rpc_service
from network.agents import service as agent_service
from network.agents.l3 import config as l3_config
from network.agents.l3 import driver as l3_driver
from network.agents.l3 import manager as l3_manager
from network.agents.l3 import rpcapi as l3_rpcapi

BINARY = "stratus-network-l3-agent"
register_opts = agent_service.options(l3_config.register_opts)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called)."""
    driver = l3_driver.IpDriver(conf.l3.ip_binary, conf.l3.iptables_restore_binary,
                                conf.l3.arping_binary)
    manager = l3_manager.L3AgentManager(conf, l3_rpcapi.L3PluginAPI(), driver, conf.host)
    return agent_service.rpc_agent(conf, manager, l3_rpcapi.TOPIC, l3_rpcapi.L3_AGENT_TYPE,
                                   BINARY)


def main() -> None:
    agent_service.main(BINARY, l3_config.register_opts, build)


if __name__ == "__main__":
    main()

"""``stratus-network-dhcp-agent``: dnsmasq in a namespace per network with DHCP.

Runs as root on the hosts that serve DHCP; talks to stratus-network-server over
RPC only (no database credentials): heartbeats and resyncs on ``network-plugin``,
change notifications on the ``dhcp_agent`` fanout topic.
"""
from __future__ import annotations

from oslo_config import cfg

from common import rpc_service
from network import rpcapi
from network.agents import service as agent_service
from network.agents.dhcp import config as dhcp_config
from network.agents.dhcp import driver as dhcp_driver
from network.agents.dhcp import manager as dhcp_manager
from network.agents.dhcp import rpcapi as dhcp_rpcapi

BINARY = "stratus-network-dhcp-agent"
register_opts = agent_service.options(dhcp_config.register_opts)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The agent's RPC service (``rpc.init`` already called)."""
    manager = dhcp_manager.DhcpAgentManager(
        conf, rpcapi.PluginAPI(conf), dhcp_driver.IpDriver(conf.dhcp.ip_binary), conf.host)
    return agent_service.rpc_agent(conf, manager, dhcp_rpcapi.TOPIC,
                                   rpcapi.DHCP_AGENT_TYPE, BINARY)


def main() -> None:
    agent_service.main(BINARY, dhcp_config.register_opts, build)


if __name__ == "__main__":
    main()

"""``stratus-network-metadata-agent``: answers the metadata proxies of the router
(and DHCP) namespaces on a UNIX socket and forwards each request, signed, to the
compute metadata API for the instance it comes from.

Runs as root beside the L3 agent; talks to stratus-network-server over RPC only
(heartbeats on ``network-plugin``, port lookups on its ``l3`` namespace).
"""
from __future__ import annotations

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from common import conf as common_conf
from common import context
from common import rpc
from common import rpc_service
from common import service
from network import rpcapi
from network.agents.l3 import rpcapi as l3_rpcapi
from network.agents.metadata import agent as metadata_agent
from network.agents.metadata import config as metadata_config

LOG = logging.getLogger(__name__)
EXMODS = ["network.exception"]
BINARY = "stratus-network-metadata-agent"
# Neutron's metadata agent serves no RPC topic and reports this one.
TOPIC = "N/A"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """The agent's options: no [database], no [api] (it holds no DB credentials)."""
    conf.register_opts(common_conf.DEFAULT_OPTS)
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    metadata_config.register_opts(conf)


def build(conf: cfg.ConfigOpts) -> metadata_agent.MetadataAgent:
    """The agent (``rpc.init`` already called)."""
    plugin_api = rpcapi.PluginAPI(conf)
    started = {"first": True}

    def report_state() -> None:
        plugin_api.report_state(context.admin_context(), {
            "agent_type": l3_rpcapi.METADATA_AGENT_TYPE, "binary": BINARY,
            "host": conf.host, "topic": TOPIC, "start_flag": started["first"],
            "configurations": {
                "metadata_proxy_socket": conf.metadata.metadata_proxy_socket,
                "nova_metadata_host": conf.metadata.nova_metadata_host,
                "nova_metadata_port": conf.metadata.nova_metadata_port,
                "nova_metadata_protocol": conf.metadata.nova_metadata_protocol}})
        started["first"] = False

    return metadata_agent.MetadataAgent(conf, l3_rpcapi.L3PluginAPI(), report_state)


def main() -> None:
    conf = service.prepare("network", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    agent = build(conf)
    launcher = service.Launcher()
    launcher.add(rpc.cleanup)
    agent.start()
    launcher.add(agent.stop)
    LOG.info("%(binary)s started (pid %(pid)s)", {"binary": BINARY, "pid": os.getpid()})
    launcher.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()

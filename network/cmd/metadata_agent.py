"""``stratus-network-metadata-agent``: answers the metadata proxies of the router
(and DHCP) namespaces on a UNIX socket and forwards each request, signed, to the
compute metadata API for the instance it comes from.

Runs as root beside the L3 agent; talks to stratus-network-server over RPC only
(heartbeats on ``network-plugin``, port lookups on its ``l3`` namespace).
"""
from __future__ import annotations

import os
import sys
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from common import rpc
from common import service
from network.agents import service as agent_service
from network.agents.l3 import rpcapi as l3_rpcapi
from network.agents.metadata import agent as metadata_agent
from network.agents.metadata import config as metadata_config

LOG = logging.getLogger(__name__)
BINARY = "stratus-network-metadata-agent"
# Neutron's metadata agent serves no RPC topic and reports this one.
TOPIC = "N/A"
register_opts = agent_service.options(metadata_config.register_opts)


def build(conf: cfg.ConfigOpts) -> metadata_agent.MetadataAgent:
    """The agent (``rpc.init`` already called)."""
    def configurations() -> dict[str, Any]:
        return {"metadata_proxy_socket": conf.metadata.metadata_proxy_socket,
                "nova_metadata_host": conf.metadata.nova_metadata_host,
                "nova_metadata_port": conf.metadata.nova_metadata_port,
                "nova_metadata_protocol": conf.metadata.nova_metadata_protocol}

    reporter = agent_service.StateReporter(conf, l3_rpcapi.METADATA_AGENT_TYPE, BINARY,
                                           TOPIC, configurations)
    return metadata_agent.MetadataAgent(conf, l3_rpcapi.L3PluginAPI(), reporter.report)


def main() -> None:
    conf = service.prepare("network", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=agent_service.EXMODS, publisher="network")
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

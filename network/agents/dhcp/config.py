"""Options of stratus-network-dhcp-agent (read at call time, never cached)."""
from __future__ import annotations

from oslo_config import cfg

from network.agents import service as agent_service
from network.agents.metadata import config as metadata_config

DHCP_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("state_path", default="/var/lib/stratus/dhcp",
               help="Directory holding one sub-directory per network: dnsmasq's pid, "
                    "hosts, options and lease files."),
    cfg.StrOpt("dnsmasq_binary", default="dnsmasq", help="The dnsmasq executable."),
    cfg.StrOpt("ip_binary", default="ip", help="The iproute2 ``ip`` executable."),
    cfg.StrOpt("bridge_mode", default="standalone", choices=["standalone", "none"],
               help="standalone: the agent creates the network's bridge brq<net id[:11]> "
                    "in the main namespace and plugs the DHCP port into it (hosts without "
                    "a bridge agent); none: the DHCP port's outer veth end "
                    "tap<port id[:11]> is left for stratus-network-bridge-agent to plug "
                    "(use this wherever the bridge agent runs)."),
    cfg.IntOpt("lease_time", default=86400, min=120, help="DHCP lease time, seconds."),
    cfg.BoolOpt("enable_isolated_metadata", default=True,
                help="Serve the metadata API from the DHCP namespace on subnets without "
                     "a router (guests of routed subnets reach the router's proxy "
                     "through their default gateway): a proxy listens on "
                     "169.254.169.254:80 there and DHCP pushes a route to it via the "
                     "DHCP port."),
    cfg.BoolOpt("force_metadata", default=True,
                help="Serve metadata from the DHCP namespace (proxy and route) on every "
                     "IPv4 DHCP subnet, routed or not: a router attached later does not "
                     "strand guests holding a lease with the route to the DHCP port."),
    cfg.FloatOpt("resync_interval", default=30.0, min=0,
                 help="Seconds between two full resyncs with the server (0: only at start)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[dhcp]`` and ``[agent] report_interval`` (idempotent)."""
    conf.register_opts(DHCP_OPTS, group="dhcp")
    agent_service.register_report_opts(conf)
    metadata_config.register_socket_opts(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("dhcp", DHCP_OPTS), ("agent", agent_service.REPORT_OPTS),
            ("metadata", list(metadata_config.SOCKET_OPTS))]

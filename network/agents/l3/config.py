"""Options of stratus-network-l3-agent (read at call time, never cached)."""
from __future__ import annotations

import sys

from oslo_config import cfg

from network.agents import service as agent_service

from network.agents.metadata import config as metadata_config

L3_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("state_path", default="/var/lib/stratus/l3",
               help="Directory holding one sub-directory per hosted router (its metadata "
                    "proxy's pid and log files)."),
    cfg.StrOpt("ip_binary", default="ip", help="The iproute2 ``ip`` executable."),
    cfg.StrOpt("iptables_restore_binary", default="iptables-restore",
               help="``iptables-restore``, run inside each router namespace."),
    cfg.StrOpt("arping_binary", default="arping",
               help="``arping`` for gratuitous ARP of new floating IPs; skipped when "
                    "it is not installed."),
    cfg.BoolOpt("plug_into_bridge", default=False,
                help="true: the agent creates the bridge brq<network id[:11]> of each "
                     "internal network (and uses [l3] external_bridge for the external "
                     "network) and enslaves the routers' tap devices itself, like the DHCP "
                     "agent's bridge_mode = standalone; false: the tap devices are left "
                     "for the bridge agent (stratus-network-bridge-agent)."),
    cfg.StrOpt("external_bridge", default="",
               help="With plug_into_bridge: the existing bridge of the external network "
                    "(e.g. br-ex); empty: brq<external network id[:11]>, created."),
    cfg.BoolOpt("enable_metadata_proxy", default=True,
                help="Run a metadata proxy in each router namespace and redirect "
                     "169.254.169.254:80 from the router's internal interfaces to it."),
    cfg.PortOpt("metadata_port", default=9697,
                help="Port the metadata proxy listens on inside the router namespace."),
    cfg.StrOpt("python_binary", default=sys.executable, sample_default="<sys.executable>",
               help="Python interpreter that runs the metadata proxies "
                    "(``-m network.agents.metadata.ns_proxy``)."),
    cfg.FloatOpt("resync_interval", default=30.0, min=0,
                 help="Seconds between two full resyncs with the server (0: only at start)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[l3]``, ``[metadata] metadata_proxy_socket`` and ``[agent]
    report_interval`` (idempotent)."""
    conf.register_opts(L3_OPTS, group="l3")
    agent_service.register_report_opts(conf)
    metadata_config.register_socket_opts(conf)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("l3", L3_OPTS), ("agent", agent_service.REPORT_OPTS),
            ("metadata", list(metadata_config.SOCKET_OPTS))]

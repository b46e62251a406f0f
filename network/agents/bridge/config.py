"""Options of stratus-network-bridge-agent (read at call time, never cached)."""
from __future__ import annotations

from oslo_config import cfg

from network.agents import service as agent_service

LINUX_BRIDGE_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("physical_interface_mappings", default=[],
                help="<physical_network>:<interface> pairs: flat networks on that "
                     "physical network get the interface enslaved to their bridge, "
                     "VLAN networks its <interface>.<vlan id> sub-interface."),
    cfg.ListOpt("bridge_mappings", default=[],
                help="<physical_network>:<bridge> pairs: flat networks on that physical "
                     "network use this existing bridge (never created nor removed by the "
                     "agent) instead of brq<network id[:11]>."),
    cfg.StrOpt("ip_binary", default="ip", help="The iproute2 ``ip`` executable."),
    cfg.StrOpt("bridge_binary", default="bridge",
               help="The iproute2 ``bridge`` executable (forwarding database)."),
]

VXLAN_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("enable_vxlan", default=True,
                help="Wire VXLAN networks (a vxlan-<vni> device per network)."),
    cfg.StrOpt("local_ip",
               help="This host's tunnel endpoint address (required for VXLAN); "
                    "reported to the server as tunneling_ip."),
    cfg.PortOpt("udp_port", default=4789, help="VXLAN UDP destination port."),
    cfg.IntOpt("ttl", min=1, max=255, help="TTL of VXLAN packets (kernel default if unset)."),
]

AGENT_OPTS: list[cfg.Opt] = [
    cfg.FloatOpt("polling_interval", default=2.0, min=0.1,
                 help="Seconds between two scans for new and removed tap devices."),
    cfg.FloatOpt("resync_interval", default=60.0, min=0,
                 help="Seconds between two full resyncs (every device re-read and "
                      "re-applied; 0: only at start)."),
]

SECURITYGROUP_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("enable_security_group", default=True,
                help="Filter the ports' traffic with their security groups."),
    cfg.StrOpt("firewall_driver", default="iptables", choices=["iptables", "noop"],
               help="iptables: per-port chains in the filter table (physdev matches); "
                    "noop: no filtering."),
    cfg.StrOpt("iptables_restore_binary", default="iptables-restore",
               help="iptables-restore executable (ip6tables-restore is derived)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register the agent's groups (idempotent)."""
    conf.register_opts(LINUX_BRIDGE_OPTS, group="linux_bridge")
    conf.register_opts(VXLAN_OPTS, group="vxlan")
    conf.register_opts(AGENT_OPTS, group="agent")
    agent_service.register_report_opts(conf)
    conf.register_opts(SECURITYGROUP_OPTS, group="securitygroup")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [("linux_bridge", LINUX_BRIDGE_OPTS), ("vxlan", VXLAN_OPTS),
            ("agent", agent_service.REPORT_OPTS + AGENT_OPTS),
            ("securitygroup", SECURITYGROUP_OPTS)]


def parse_mappings(values: list[str], what: str) -> dict[str, str]:
    """``["physnet:dev", ...]`` -> ``{"physnet": "dev"}``.

    :raises: ValueError on a malformed entry or a physical network given twice.
    """
    out: dict[str, str] = {}
    for value in values:
        physnet, sep, dev = value.strip().partition(":")
        if not sep or not physnet.strip() or not dev.strip():
            raise ValueError("%s: %r is not <physical_network>:<device>" % (what, value))
        if physnet.strip() in out:
            raise ValueError("%s: physical network %r given twice" % (what, physnet))
        out[physnet.strip()] = dev.strip()
    return out

"""[DEFAULT], [ml2*], [quotas] and [agent] options of the network service."""
from __future__ import annotations

from oslo_config import cfg

DEFAULT_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00",
               help="Base MAC address of ports; the last three octets are random."),
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68,
               help="MTU of the underlying physical network; VXLAN networks get "
                    "50 bytes less."),
    cfg.IntOpt("pagination_max_limit", default=1000, min=1,
               help="Most items one list request returns."),
    cfg.StrOpt("default_availability_zone", default="nova",
               help="Availability zone reported for agents."),
    cfg.IntOpt("ipam_retries", default=30, min=1,
               help="Attempts at a port or IP allocation when concurrent requests "
                    "collide on the same address or MAC."),
]

ML2_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("type_drivers", default=["flat", "vlan", "vxlan"],
                help="Network types that may be created."),
    cfg.ListOpt("tenant_network_types", default=["vxlan"],
                help="Network types, in order, allocated to project networks."),
    cfg.IntOpt("path_mtu", default=0, min=0,
               help="MTU of the overlay path (0: use [DEFAULT] global_physnet_mtu)."),
]

FLAT_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("flat_networks", default=["public"],
                help="Physical networks flat networks may use ('*' for any)."),
]

VXLAN_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("vni_ranges", default=["1:1000"],
                help="VXLAN VNI ranges (<min>:<max>) for project networks."),
]

VLAN_OPTS: list[cfg.Opt] = [
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="<physical_network>[:<min>:<max>] entries: physical networks VLAN "
                     "networks may use, with the VLAN ids for project networks."),
]

QUOTA_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("default_quota", default=-1, min=-1,
               help="Default for resources without their own quota (-1: no limit)."),
    cfg.IntOpt("quota_network", default=100, min=-1, help="Networks per project."),
    cfg.IntOpt("quota_subnet", default=100, min=-1, help="Subnets per project."),
    cfg.IntOpt("quota_port", default=500, min=-1, help="Ports per project."),
    cfg.IntOpt("quota_router", default=10, min=-1, help="Routers per project."),
    cfg.IntOpt("quota_floatingip", default=50, min=-1, help="Floating IPs per project."),
    cfg.IntOpt("quota_security_group", default=10, min=-1,
               help="Security groups per project."),
    cfg.IntOpt("quota_security_group_rule", default=100, min=-1,
               help="Security group rules per project."),
    cfg.IntOpt("quota_subnetpool", default=-1, min=-1, help="Subnet pools per project."),
]

COMPUTE_EVENT_OPTS: list[cfg.Opt] = [
    cfg.BoolOpt("notify_nova_on_port_status_changes", default=True,
                help="Send network-vif-plugged/-unplugged events to compute when the "
                     "status of a port bound to a server changes ([nova] holds the "
                     "credentials; nothing is sent when compute is not deployed)."),
    cfg.BoolOpt("notify_nova_on_port_data_changes", default=True,
                help="Send network-changed / network-vif-deleted events to compute when "
                     "a server's port changes addresses, floating IPs or is deleted."),
    cfg.FloatOpt("send_events_interval", default=2.0, min=0.05,
                 help="Seconds between two batches of events sent to compute."),
]

AGENT_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("agent_down_time", default=75, min=1,
               help="Seconds without a heartbeat after which an agent is dead. Should "
                    "be at least twice the agents' report_interval."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(COMPUTE_EVENT_OPTS)
    conf.register_opts(ML2_OPTS, group="ml2")
    conf.register_opts(FLAT_OPTS, group="ml2_type_flat")
    conf.register_opts(VXLAN_OPTS, group="ml2_type_vxlan")
    conf.register_opts(VLAN_OPTS, group="ml2_type_vlan")
    conf.register_opts(QUOTA_OPTS, group="quotas")
    conf.register_opts(AGENT_OPTS, group="agent")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(None, DEFAULT_OPTS + COMPUTE_EVENT_OPTS), ("ml2", ML2_OPTS),
            ("ml2_type_flat", FLAT_OPTS),
            ("ml2_type_vxlan", VXLAN_OPTS), ("ml2_type_vlan", VLAN_OPTS),
            ("quotas", QUOTA_OPTS), ("agent", AGENT_OPTS)]

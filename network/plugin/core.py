"""The network plugin: every resource component over one database."""
from __future__ import annotations

from oslo_config import cfg

from common.db import engine
from network.plugin import agents
from network.plugin import compute_notify
from network.plugin import dhcp
from network.plugin import dhcp_notify
from network.plugin import floatingips
from network.plugin import l2
from network.plugin import l2_notify
from network.plugin import l3
from network.plugin import l3_agents
from network.plugin import l3_notify
from network.plugin import networks
from network.plugin import ports
from network.plugin import secgroups
from network.plugin import subnets
from network.plugin import tags


class Plugin:
    """Holds the components; they reach one another through it."""

    def __init__(self, conf: cfg.ConfigOpts, db: engine.Database) -> None:
        self.conf = conf
        self.db = db
        self.networks = networks.Networks(self)
        self.subnets = subnets.Subnets(self)
        self.subnetpools = subnets.SubnetPools(self)
        self.ports = ports.Ports(self)
        self.security_groups = secgroups.SecurityGroups(self)
        self.routers = l3.Routers(self)
        self.floatingips = floatingips.FloatingIPs(self)
        self.agents = agents.Agents(self)
        self.quotas = agents.Quotas(self)
        self.tags = tags.Tags(self)
        self.dhcp = dhcp.Dhcp(self)
        self.l2 = l2.L2(self)
        self.l3_agents = l3_agents.L3Agents(self)
        # After the components: wraps their writers to notify the DHCP agents.
        self.dhcp_notifier = dhcp_notify.install(self)
        self.l2_notifier = l2_notify.install(self)
        self.l3_notifier = l3_notify.install(self)
        # Last: it wraps l2's port status setter (server events for compute).
        self.compute_notifier = compute_notify.install(self)

"""SQLAlchemy models of the network database (owned by stratus-network-server).

Every API resource carries Neutron's standard attributes (description,
created_at, updated_at, revision_number) as columns of its own table; tags of
any resource live in ``tags``.
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models

UUID = sa.String(36)
PROJECT = sa.String(255)


class Base(orm.DeclarativeBase):
    pass


class StandardAttrs:
    description: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    revision_number: orm.Mapped[int] = orm.mapped_column(sa.BigInteger, default=0)


def _fk(target: str, ondelete: str | None = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete)


class Network(Base, StandardAttrs):
    __tablename__ = "networks"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    shared: orm.Mapped[bool] = orm.mapped_column(default=False, index=True)
    external: orm.Mapped[bool] = orm.mapped_column(default=False, index=True)
    is_default: orm.Mapped[bool] = orm.mapped_column(default=False)
    mtu: orm.Mapped[int] = orm.mapped_column(default=1500)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    segments: orm.Mapped[list["NetworkSegment"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    subnets: orm.Mapped[list["Subnet"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="network")


class NetworkSegment(Base):
    __tablename__ = "network_segments"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("networks.id"), index=True)
    network_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    physical_network: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    segmentation_id: orm.Mapped[int | None] = orm.mapped_column()
    # "vxlan:12", "vlan:physnet1:100", "flat:public": one network per segment.
    allocation_key: orm.Mapped[str] = orm.mapped_column(sa.String(128), unique=True)


class SubnetPool(Base, StandardAttrs):
    __tablename__ = "subnetpools"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    ip_version: orm.Mapped[int] = orm.mapped_column()
    default_prefixlen: orm.Mapped[int] = orm.mapped_column()
    min_prefixlen: orm.Mapped[int] = orm.mapped_column()
    max_prefixlen: orm.Mapped[int] = orm.mapped_column()
    shared: orm.Mapped[bool] = orm.mapped_column(default=False)
    is_default: orm.Mapped[bool] = orm.mapped_column(default=False)
    default_quota: orm.Mapped[int | None] = orm.mapped_column()
    address_scope_id: orm.Mapped[str | None] = orm.mapped_column(UUID)
    prefixes: orm.Mapped[list["SubnetPoolPrefix"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class SubnetPoolPrefix(Base):
    __tablename__ = "subnetpool_prefixes"
    subnetpool_id: orm.Mapped[str] = orm.mapped_column(
        UUID, _fk("subnetpools.id"), primary_key=True)
    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class Subnet(Base, StandardAttrs):
    __tablename__ = "subnets"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("networks.id"), index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    ip_version: orm.Mapped[int] = orm.mapped_column()
    cidr: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    gateway_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    enable_dhcp: orm.Mapped[bool] = orm.mapped_column(default=True)
    ipv6_ra_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    ipv6_address_mode: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    subnetpool_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, _fk("subnetpools.id", None), index=True)
    network: orm.Mapped[Network] = orm.relationship(back_populates="subnets")
    allocation_pools: orm.Mapped[list["AllocationPool"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AllocationPool.id")
    dns_nameservers: orm.Mapped[list["DNSNameServer"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DNSNameServer.order")
    host_routes: orm.Mapped[list["HostRoute"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class AllocationPool(Base):
    __tablename__ = "subnet_allocation_pools"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True, autoincrement=True)
    subnet_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("subnets.id"), index=True)
    first_ip: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    last_ip: orm.Mapped[str] = orm.mapped_column(sa.String(64))


class DNSNameServer(Base):
    __tablename__ = "dns_nameservers"
    subnet_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("subnets.id"), primary_key=True)
    address: orm.Mapped[str] = orm.mapped_column(sa.String(128), primary_key=True)
    order: orm.Mapped[int] = orm.mapped_column(default=0)


class HostRoute(Base):
    __tablename__ = "subnet_routes"
    subnet_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("subnets.id"), primary_key=True)
    destination: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    nexthop: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class Port(Base, StandardAttrs):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address",
                                          name="uniq_ports0network_id0mac_address"),)
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("networks.id"), index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")
    device_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    device_owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    port_security_enabled: orm.Mapped[bool] = orm.mapped_column(default=True)
    fixed_ips: orm.Mapped[list["IPAllocation"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    binding: orm.Mapped["PortBinding | None"] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", uselist=False)
    allowed_address_pairs: orm.Mapped[list["AllowedAddressPair"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    extra_dhcp_opts: orm.Mapped[list["ExtraDhcpOpt"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    security_groups: orm.Mapped[list["SecurityGroupPortBinding"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class IPAllocation(Base):
    """One address of a port. UNIQUE(network_id, ip_address) is what makes IPAM
    safe under concurrency: a second insert of the same address fails."""

    __tablename__ = "ipallocations"
    __table_args__ = (sa.UniqueConstraint("network_id", "ip_address",
                                          name="uniq_ipallocations0network_id0ip_address"),)
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    subnet_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("subnets.id"), primary_key=True,
                                                   index=True)
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("networks.id"), index=True)


class PortBinding(Base):
    __tablename__ = "port_bindings"
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="", index=True)
    vif_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="unbound")
    vif_details: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")
    profile: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")
    vnic_type: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="normal")


class AllowedAddressPair(Base):
    __tablename__ = "allowedaddresspairs"
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True)
    mac_address: orm.Mapped[str] = orm.mapped_column(sa.String(32), primary_key=True)
    ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class ExtraDhcpOpt(Base):
    __tablename__ = "extradhcpopts"
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True)
    opt_name: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    ip_version: orm.Mapped[int] = orm.mapped_column(primary_key=True, default=4)
    opt_value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class SecurityGroup(Base, StandardAttrs):
    __tablename__ = "securitygroups"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    stateful: orm.Mapped[bool] = orm.mapped_column(default=True)
    rules: orm.Mapped[list["SecurityGroupRule"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin",
        foreign_keys="SecurityGroupRule.security_group_id")


class DefaultSecurityGroup(Base):
    """One ``default`` group per project (the primary key makes it unique)."""

    __tablename__ = "default_security_group"
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, _fk("securitygroups.id"), unique=True)


class SecurityGroupRule(Base, StandardAttrs):
    __tablename__ = "securitygrouprules"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, _fk("securitygroups.id"), index=True)
    remote_group_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, _fk("securitygroups.id"))
    direction: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    ethertype: orm.Mapped[str] = orm.mapped_column(sa.String(40))
    protocol: orm.Mapped[str | None] = orm.mapped_column(sa.String(40))
    port_range_min: orm.Mapped[int | None] = orm.mapped_column()
    port_range_max: orm.Mapped[int | None] = orm.mapped_column()
    remote_ip_prefix: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))


class SecurityGroupPortBinding(Base):
    __tablename__ = "securitygroupportbindings"
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True)
    security_group_id: orm.Mapped[str] = orm.mapped_column(
        UUID, _fk("securitygroups.id", None), primary_key=True, index=True)


class Router(Base, StandardAttrs):
    __tablename__ = "routers"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ACTIVE")
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    gw_port_id: orm.Mapped[str | None] = orm.mapped_column(UUID, _fk("ports.id", "SET NULL"))
    enable_snat: orm.Mapped[bool] = orm.mapped_column(default=True)
    routes: orm.Mapped[list["RouterRoute"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")


class RouterPort(Base):
    __tablename__ = "routerports"
    router_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("routers.id"), primary_key=True)
    port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"), primary_key=True,
                                                 unique=True)
    port_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class RouterRoute(Base):
    __tablename__ = "routerroutes"
    router_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("routers.id"), primary_key=True)
    destination: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    nexthop: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class FloatingIP(Base, StandardAttrs):
    __tablename__ = "floatingips"
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, index=True)
    floating_ip_address: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    floating_network_id: orm.Mapped[str] = orm.mapped_column(UUID, index=True)
    floating_port_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("ports.id"))
    fixed_port_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, _fk("ports.id", "SET NULL"), index=True)
    fixed_ip_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    router_id: orm.Mapped[str | None] = orm.mapped_column(
        UUID, _fk("routers.id", "SET NULL"), index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="DOWN")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host",
                                          name="uniq_agents0agent_type0host"),)
    id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    agent_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    admin_state_up: orm.Mapped[bool] = orm.mapped_column(default=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    started_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    heartbeat_timestamp: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    configurations: orm.Mapped[str] = orm.mapped_column(sa.Text, default="{}")
    resources_synced: orm.Mapped[bool | None] = orm.mapped_column()


class NetworkDhcpAgentBinding(Base):
    __tablename__ = "networkdhcpagentbindings"
    network_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("networks.id"),
                                                    primary_key=True)
    dhcp_agent_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("agents.id"),
                                                       primary_key=True)


class RouterL3AgentBinding(Base):
    __tablename__ = "routerl3agentbindings"
    router_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("routers.id"), primary_key=True)
    l3_agent_id: orm.Mapped[str] = orm.mapped_column(UUID, _fk("agents.id"),
                                                     primary_key=True)


class Quota(Base):
    __tablename__ = "quotas"
    project_id: orm.Mapped[str] = orm.mapped_column(PROJECT, primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    limit: orm.Mapped[int] = orm.mapped_column()


class Tag(Base):
    __tablename__ = "tags"
    resource_id: orm.Mapped[str] = orm.mapped_column(UUID, primary_key=True)
    tag: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)

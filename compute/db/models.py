"""SQLAlchemy models of the compute database (owned by the compute API and,
later, the conductor)."""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models


class Base(orm.DeclarativeBase):
    pass


class Flavor(Base):
    __tablename__ = "flavors"
    __table_args__ = (sa.UniqueConstraint("flavorid", name="uniq_flavors0flavorid"),
                      sa.UniqueConstraint("name", name="uniq_flavors0name"))
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    swap: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    rxtx_factor: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    vcpu_weight: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
    extra_specs: orm.Mapped[list["FlavorExtraSpec"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    projects: orm.Mapped[list["FlavorProject"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_specs"
    __table_args__ = (sa.UniqueConstraint("flavor_id", "key",
                                          name="uniq_flavor_extra_specs0flavor_id0key"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    value: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)


class FlavorProject(Base):
    __tablename__ = "flavor_projects"
    __table_args__ = (sa.UniqueConstraint("flavor_id", "project_id",
                                          name="uniq_flavor_projects0flavor_id0project_id"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavor_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("flavors.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)


class KeyPair(Base):
    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uniq_key_pairs0user_id0name"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    public_key: orm.Mapped[str] = orm.mapped_column(sa.Text)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ssh")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)


# -- servers ----------------------------------------------------------------
# Instances are soft-deleted as on Nova: ``deleted`` is 0 for a live row and the
# row's id once deleted, so a deleted server can still be shown to admins
# (``?deleted=True``) and its actions and faults stay readable.


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (sa.UniqueConstraint("uuid", name="uniq_instances0uuid"),
                      sa.Index("instances_project_id_deleted_idx", "project_id", "deleted"),
                      sa.Index("instances_host_node_deleted_idx", "host", "node", "deleted"),
                      sa.Index("instances_reservation_id_idx", "reservation_id"),
                      # Covers the scheduler's usage sums (no read of the wide rows).
                      sa.Index("instances_usage_idx", "deleted", "host", "node", "vcpus",
                               "memory_mb", "root_gb", "ephemeral_gb"))
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    display_name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    display_description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    hostname: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    # Where it runs: host (the compute service), node (the hypervisor), launched_on.
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    launched_on: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    vm_state: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    task_state: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    power_state: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    image_ref: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    # The flavor as it was at boot (Nova embeds it; later flavor edits do not
    # change running servers), and the old/new one during a resize.
    flavor: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    old_flavor: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    new_flavor: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    # Copies of the current flavor's size, so usage sums are plain SQL.
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    key_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    key_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    user_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    config_drive: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    access_ip_v4: orm.Mapped[str | None] = orm.mapped_column(sa.String(39), nullable=True)
    access_ip_v6: orm.Mapped[str | None] = orm.mapped_column(sa.String(39), nullable=True)
    locked: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    locked_by: orm.Mapped[str | None] = orm.mapped_column(sa.String(16), nullable=True)
    locked_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    launch_index: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    reservation_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    root_device_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    progress: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    auto_disk_config: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    # JSON documents: the network_info cache (compute/network_info.py shape),
    # security group names, the boot request (networks, hints, group, block
    # devices, retries) the conductor and a reschedule need, and the image's
    # properties (Nova's system_metadata image_* keys).
    network_info: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    security_groups: orm.Mapped[list] = orm.mapped_column(sa.JSON, default=list)
    request_spec: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    system_metadata: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
    launched_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                           nullable=True)
    terminated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                             nullable=True)
    deleted_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                          nullable=True)
    deleted: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    metadata_items: orm.Mapped[list["InstanceMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    tags: orm.Mapped[list["Tag"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class InstanceMetadata(Base):
    __tablename__ = "instance_metadata"
    __table_args__ = (sa.UniqueConstraint("instance_uuid", "key",
                                          name="uniq_instance_metadata0instance_uuid0key"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("instances.uuid", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class Tag(Base):
    __tablename__ = "tags"
    instance_uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("instances.uuid", ondelete="CASCADE"), primary_key=True)
    tag: orm.Mapped[str] = orm.mapped_column(sa.String(80), primary_key=True, index=True)


class InstanceFault(Base):
    __tablename__ = "instance_faults"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    code: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    message: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)


class InstanceAction(Base):
    __tablename__ = "instance_actions"
    __table_args__ = (sa.Index("instance_actions_instance_uuid_request_id_idx",
                               "instance_uuid", "request_id"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    request_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    message: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    finish_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                           nullable=True)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
    events: orm.Mapped[list["InstanceActionEvent"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class InstanceActionEvent(Base):
    __tablename__ = "instance_actions_events"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    action_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("instance_actions.id", ondelete="CASCADE"), index=True)
    event: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    finish_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                           nullable=True)
    result: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    traceback: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)


class BlockDeviceMapping(Base):
    __tablename__ = "block_device_mapping"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    source_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    destination_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    device_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    boot_index: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    volume_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True,
                                                          index=True)
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    volume_size: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    volume_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    delete_on_termination: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disk_bus: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    device_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    tag: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    attachment_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    connection_info: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)


# -- hosts --------------------------------------------------------------------


class Service(Base):
    """A compute daemon (binary on host) with its heartbeat (``last_seen_up``)."""

    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary", name="uniq_services0host0binary"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    topic: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    report_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    forced_down: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    last_seen_up: orm.Mapped[datetime.datetime | None] = orm.mapped_column(sa.DateTime,
                                                                            nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)


class ComputeNode(Base):
    """A hypervisor's size and use, as its node's resource tracker reports it."""

    __tablename__ = "compute_nodes"
    __table_args__ = (sa.UniqueConstraint("host", "hypervisor_hostname",
                                          name="uniq_compute_nodes0host0hypervisor_hostname"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    host_ip: orm.Mapped[str | None] = orm.mapped_column(sa.String(39), nullable=True)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    local_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    vcpus_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    memory_mb_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    local_gb_used: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    running_vms: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    disk_available_least: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    cpu_info: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    cpu_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=4.0)
    ram_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    disk_allocation_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)


class Aggregate(Base):
    __tablename__ = "aggregates"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)
    hosts: orm.Mapped[list["AggregateHost"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    metadata_items: orm.Mapped[list["AggregateMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class AggregateHost(Base):
    __tablename__ = "aggregate_hosts"
    aggregate_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class AggregateMetadata(Base):
    __tablename__ = "aggregate_metadata"
    aggregate_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class Migration(Base):
    """A resize, cold or live migration or evacuation of one instance."""

    __tablename__ = "migrations"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    migration_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    source_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    source_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    dest_compute: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    dest_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    old_flavor_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    new_flavor_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=base_models.utcnow)


# -- projects -----------------------------------------------------------------


class Quota(Base):
    """A project's (or, with ``user_id``, a user's) limit overriding the default."""

    __tablename__ = "quotas"
    __table_args__ = (sa.UniqueConstraint("project_id", "user_id", "resource",
                                          name="uniq_quotas0project_id0user_id0resource"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class InstanceGroup(Base):
    """A server group: a placement policy (affinity …) and its member servers."""

    __tablename__ = "instance_groups"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    policy: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    rules: orm.Mapped[dict] = orm.mapped_column(sa.JSON, default=dict)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)
    members: orm.Mapped[list["InstanceGroupMember"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class InstanceGroupMember(Base):
    __tablename__ = "instance_group_member"
    group_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey("instance_groups.id", ondelete="CASCADE"), primary_key=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True,
                                                       index=True)


class ConsoleAuthToken(Base):
    """A remote console's one-time token (stored hashed), checked by the novncproxy."""

    __tablename__ = "console_auth_tokens"
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    console_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    port: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    access_url_base: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    expires: orm.Mapped[int] = orm.mapped_column(sa.Integer, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=base_models.utcnow)

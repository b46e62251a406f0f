"""SQLAlchemy models of the block storage database (every table of the README).

Ids of volumes, snapshots, types, attachments and backups are UUID strings
chosen by the API; the key/value side tables, quotas and services use integer
ids. Rows are deleted, never soft-deleted. Child rows of a volume, snapshot or
type (metadata, extra specs, access) go with it (``ON DELETE CASCADE``);
snapshots and volumes of a type block the delete of their parent (plain
foreign keys), so the stores delete snapshots before their volume.
"""
from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models

# The volume type the first migration creates (Cinder picks a random id; a
# fixed one lets tests and the migration agree). ``[DEFAULT] default_volume_type``
# names the default by name, not by this id.
DEFAULT_TYPE_ID = "d7c7b6a9-2b6e-4a3b-8f2a-3c1a3d9e0f01"
DEFAULT_TYPE_NAME = "__DEFAULT__"
DEFAULT_TYPE_DESCRIPTION = "Default Volume Type"

_Str = sa.String(255)
_UUID = sa.String(36)


class Base(orm.DeclarativeBase):
    pass


def _created() -> Any:
    return orm.mapped_column(sa.DateTime, default=base_models.utcnow)


def _updated() -> Any:
    return orm.mapped_column(sa.DateTime, nullable=True, onupdate=base_models.utcnow)


def _opt_str(length: int = 255) -> Any:
    return orm.mapped_column(sa.String(length), nullable=True)


# -- volume types ------------------------------------------------------------------


class VolumeType(Base):
    __tablename__ = "volume_types"
    __table_args__ = (sa.UniqueConstraint("name", name="uniq_volume_types0name"),)
    id: orm.Mapped[str] = orm.mapped_column(_UUID, primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(_Str)
    description: orm.Mapped[str | None] = _opt_str()
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()
    extra_specs: orm.Mapped[list["VolumeTypeExtraSpec"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    projects: orm.Mapped[list["VolumeTypeProject"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class VolumeTypeExtraSpec(Base):
    __tablename__ = "volume_type_extra_specs"
    __table_args__ = (sa.UniqueConstraint(
        "volume_type_id", "key", name="uniq_volume_type_extra_specs0volume_type_id0key"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volume_types.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = _opt_str()


class VolumeTypeProject(Base):
    __tablename__ = "volume_type_projects"
    __table_args__ = (sa.UniqueConstraint(
        "volume_type_id", "project_id",
        name="uniq_volume_type_projects0volume_type_id0project_id"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volume_types.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(_Str, index=True)


# -- volumes -----------------------------------------------------------------------


class Volume(Base):
    __tablename__ = "volumes"
    __table_args__ = (sa.Index("volumes_project_id_idx", "project_id"),
                      sa.Index("volumes_host_idx", "host"),
                      sa.Index("volumes_status_idx", "status"))
    id: orm.Mapped[str] = orm.mapped_column(_UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(_Str)
    user_id: orm.Mapped[str] = orm.mapped_column(_Str)
    name: orm.Mapped[str | None] = _opt_str()
    description: orm.Mapped[str | None] = _opt_str()
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(_Str)
    attach_status: orm.Mapped[str] = orm.mapped_column(_Str, default="detached")
    availability_zone: orm.Mapped[str | None] = _opt_str()
    volume_type_id: orm.Mapped[str | None] = orm.mapped_column(
        _UUID, sa.ForeignKey("volume_types.id"), nullable=True, index=True)
    # ``<host>@<backend>#<pool>``, null until the scheduler placed the volume.
    host: orm.Mapped[str | None] = _opt_str()
    cluster_name: orm.Mapped[str | None] = _opt_str()
    service_uuid: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    shared_targets: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    bootable: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    multiattach: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    encrypted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    # False for the internal temporary volumes Cinder does not count in quotas.
    use_quota: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    source_volid: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    image_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    backup_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    provider_location: orm.Mapped[str | None] = _opt_str()
    provider_auth: orm.Mapped[str | None] = _opt_str()
    provider_id: orm.Mapped[str | None] = _opt_str()
    migration_status: orm.Mapped[str | None] = _opt_str()
    # Cinder's ``_name_id``: the id the backend object is named after after a migration.
    name_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    replication_status: orm.Mapped[str | None] = orm.mapped_column(
        _Str, nullable=True, default="disabled")
    consistencygroup_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    group_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()
    launched_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    terminated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    metadata_items: orm.Mapped[list["VolumeMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    admin_metadata: orm.Mapped[list["VolumeAdminMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    glance_metadata: orm.Mapped[list["VolumeGlanceMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    attachments: orm.Mapped[list["VolumeAttachment"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


def _kv_table(name: str, parent: str) -> tuple[sa.UniqueConstraint]:
    return (sa.UniqueConstraint(parent, "key", name="uniq_%s0%s0key" % (name, parent)),)


class VolumeMetadata(Base):
    """The user's metadata of a volume."""

    __tablename__ = "volume_metadata"
    __table_args__ = _kv_table("volume_metadata", "volume_id")
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = _opt_str()


class VolumeAdminMetadata(Base):
    """The service's own metadata of a volume (``readonly``, ``attached_mode``)."""

    __tablename__ = "volume_admin_metadata"
    __table_args__ = _kv_table("volume_admin_metadata", "volume_id")
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = _opt_str()


class VolumeGlanceMetadata(Base):
    """Image properties a volume created from an image keeps (``volume_image_metadata``)."""

    __tablename__ = "volume_glance_metadata"
    __table_args__ = _kv_table("volume_glance_metadata", "volume_id")
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)


# -- attachments -------------------------------------------------------------------


class VolumeAttachment(Base):
    __tablename__ = "volume_attachments"
    id: orm.Mapped[str] = orm.mapped_column(_UUID, primary_key=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    instance_uuid: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True,
                                                              index=True)
    attached_host: orm.Mapped[str | None] = _opt_str()
    mountpoint: orm.Mapped[str | None] = _opt_str()
    attach_mode: orm.Mapped[str] = orm.mapped_column(sa.String(36), default="rw")
    attach_status: orm.Mapped[str] = orm.mapped_column(_Str)
    connector: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    connection_info: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    attach_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    detach_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()


# -- snapshots ---------------------------------------------------------------------


class Snapshot(Base):
    __tablename__ = "snapshots"
    __table_args__ = (sa.Index("snapshots_project_id_idx", "project_id"),)
    id: orm.Mapped[str] = orm.mapped_column(_UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(_Str)
    user_id: orm.Mapped[str] = orm.mapped_column(_Str)
    # A plain foreign key: a volume with snapshots cannot lose its row first.
    volume_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("volumes.id"), index=True)
    # The volume's type at snapshot time (per-type snapshot quotas).
    volume_type_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    name: orm.Mapped[str | None] = _opt_str()
    description: orm.Mapped[str | None] = _opt_str()
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(_Str)
    progress: orm.Mapped[str] = orm.mapped_column(_Str, default="0%")
    provider_location: orm.Mapped[str | None] = _opt_str()
    provider_id: orm.Mapped[str | None] = _opt_str()
    group_snapshot_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    use_quota: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()
    metadata_items: orm.Mapped[list["SnapshotMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class SnapshotMetadata(Base):
    __tablename__ = "snapshot_metadata"
    __table_args__ = _kv_table("snapshot_metadata", "snapshot_id")
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    snapshot_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("snapshots.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = _opt_str()


# -- backups -----------------------------------------------------------------------


class Backup(Base):
    __tablename__ = "backups"
    __table_args__ = (sa.Index("backups_project_id_idx", "project_id"),)
    id: orm.Mapped[str] = orm.mapped_column(_UUID, primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(_Str)
    user_id: orm.Mapped[str] = orm.mapped_column(_Str)
    # No foreign key: a backup outlives its volume.
    volume_id: orm.Mapped[str] = orm.mapped_column(_UUID, index=True)
    name: orm.Mapped[str | None] = _opt_str()
    description: orm.Mapped[str | None] = _opt_str()
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(_Str)
    fail_reason: orm.Mapped[str | None] = _opt_str()
    container: orm.Mapped[str | None] = _opt_str()
    object_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    service: orm.Mapped[str | None] = _opt_str()
    service_metadata: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    host: orm.Mapped[str | None] = _opt_str()
    availability_zone: orm.Mapped[str | None] = _opt_str()
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    parent_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    is_incremental: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    num_dependent_backups: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    restore_volume_id: orm.Mapped[str | None] = orm.mapped_column(_UUID, nullable=True)
    data_timestamp: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()
    metadata_items: orm.Mapped[list["BackupMetadata"]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)


class BackupMetadata(Base):
    """Metadata of a backup (API 3.43)."""

    __tablename__ = "backup_metadata"
    __table_args__ = _kv_table("backup_metadata", "backup_id")
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    backup_id: orm.Mapped[str] = orm.mapped_column(
        _UUID, sa.ForeignKey("backups.id", ondelete="CASCADE"), index=True)
    key: orm.Mapped[str] = orm.mapped_column(_Str)
    value: orm.Mapped[str | None] = _opt_str()


# -- quotas ------------------------------------------------------------------------


class Quota(Base):
    """A project's own limit of one resource (absent: the class default)."""

    __tablename__ = "quotas"
    __table_args__ = (sa.UniqueConstraint("project_id", "resource",
                                          name="uniq_quotas0project_id0resource"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    project_id: orm.Mapped[str] = orm.mapped_column(_Str, index=True)
    resource: orm.Mapped[str] = orm.mapped_column(_Str)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()


class QuotaClass(Base):
    """A quota class's limit of one resource (class ``default`` overrides [quota])."""

    __tablename__ = "quota_classes"
    __table_args__ = (sa.UniqueConstraint("class_name", "resource",
                                          name="uniq_quota_classes0class_name0resource"),)
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    class_name: orm.Mapped[str] = orm.mapped_column(_Str, index=True)
    resource: orm.Mapped[str] = orm.mapped_column(_Str)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    created_at: orm.Mapped[datetime.datetime] = _created()
    updated_at: orm.Mapped[datetime.datetime | None] = _updated()


# -- services ----------------------------------------------------------------------


class Service(Base):
    """One daemon (scheduler, volume backend, backup) and its last heartbeat."""

    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary", name="uniq_services0host0binary"),
                      sa.UniqueConstraint("uuid", name="uniq_services0uuid"))
    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(_UUID)
    binary: orm.Mapped[str] = orm.mapped_column(_Str)
    host: orm.Mapped[str] = orm.mapped_column(_Str)
    topic: orm.Mapped[str | None] = _opt_str()
    availability_zone: orm.Mapped[str] = orm.mapped_column(_Str, default="nova")
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disabled_reason: orm.Mapped[str | None] = _opt_str()
    frozen: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    replication_status: orm.Mapped[str | None] = orm.mapped_column(
        _Str, nullable=True, default="disabled")
    active_backend_id: orm.Mapped[str | None] = _opt_str()
    cluster_name: orm.Mapped[str | None] = _opt_str()
    report_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    # The backend's last capacity report (volume daemons), see README.
    capabilities: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON, nullable=True)
    # The heartbeat: written by every report (created_at at registration).
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = _created()

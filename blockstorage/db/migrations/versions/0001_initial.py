"""initial block storage schema: every table of blockstorage/README.md and the
``__DEFAULT__`` volume type

Revision ID: 0001
Revises:
Create Date: 2026-12-06 00:00:00
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Fixed here (Cinder draws a random one) so that the migration and
# blockstorage.db.models.DEFAULT_TYPE_ID agree; kept literal, as migrations
# must not change when the models do.
DEFAULT_TYPE_ID = "d7c7b6a9-2b6e-4a3b-8f2a-3c1a3d9e0f01"

# Creation order (parents first); downgrade drops in reverse.
TABLES = [
    "backups",
    "quota_classes",
    "quotas",
    "services",
    "volume_types",
    "backup_metadata",
    "volume_type_extra_specs",
    "volume_type_projects",
    "volumes",
    "snapshots",
    "volume_admin_metadata",
    "volume_attachments",
    "volume_glance_metadata",
    "volume_metadata",
    "snapshot_metadata",
]


def upgrade() -> None:
    op.create_table(
        "backups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("fail_reason", sa.String(length=255), nullable=True),
        sa.Column("container", sa.String(length=255), nullable=True),
        sa.Column("object_count", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=True),
        sa.Column("service_metadata", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("snapshot_id", sa.String(length=36), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("is_incremental", sa.Boolean(), nullable=False),
        sa.Column("num_dependent_backups", sa.Integer(), nullable=False),
        sa.Column("restore_volume_id", sa.String(length=36), nullable=True),
        sa.Column("data_timestamp", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("backups_project_id_idx", "backups", ["project_id"], unique=False)
    op.create_index(op.f("ix_backups_volume_id"), "backups", ["volume_id"], unique=False)

    op.create_table(
        "quota_classes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("class_name", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("class_name", "resource", name="uniq_quota_classes0class_name0resource")
    )
    op.create_index(op.f("ix_quota_classes_class_name"), "quota_classes", ["class_name"], unique=False)

    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "resource", name="uniq_quotas0project_id0resource")
    )
    op.create_index(op.f("ix_quotas_project_id"), "quotas", ["project_id"], unique=False)

    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("binary", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("availability_zone", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("replication_status", sa.String(length=255), nullable=True),
        sa.Column("active_backend_id", sa.String(length=255), nullable=True),
        sa.Column("cluster_name", sa.String(length=255), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("host", "binary", name="uniq_services0host0binary"),
        sa.UniqueConstraint("uuid", name="uniq_services0uuid")
    )
    op.create_table(
        "volume_types",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uniq_volume_types0name")
    )
    op.create_table(
        "backup_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("backup_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["backup_id"], ["backups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("backup_id", "key", name="uniq_backup_metadata0backup_id0key")
    )
    op.create_index(op.f("ix_backup_metadata_backup_id"), "backup_metadata", ["backup_id"], unique=False)

    op.create_table(
        "volume_type_extra_specs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volume_type_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["volume_type_id"], ["volume_types.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("volume_type_id", "key", name="uniq_volume_type_extra_specs0volume_type_id0key")
    )
    op.create_index(op.f("ix_volume_type_extra_specs_volume_type_id"), "volume_type_extra_specs", ["volume_type_id"], unique=False)

    op.create_table(
        "volume_type_projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volume_type_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["volume_type_id"], ["volume_types.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("volume_type_id", "project_id", name="uniq_volume_type_projects0volume_type_id0project_id")
    )
    op.create_index(op.f("ix_volume_type_projects_project_id"), "volume_type_projects", ["project_id"], unique=False)
    op.create_index(op.f("ix_volume_type_projects_volume_type_id"), "volume_type_projects", ["volume_type_id"], unique=False)

    op.create_table(
        "volumes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("attach_status", sa.String(length=255), nullable=False),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("volume_type_id", sa.String(length=36), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("cluster_name", sa.String(length=255), nullable=True),
        sa.Column("service_uuid", sa.String(length=36), nullable=True),
        sa.Column("shared_targets", sa.Boolean(), nullable=False),
        sa.Column("bootable", sa.Boolean(), nullable=False),
        sa.Column("multiattach", sa.Boolean(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("use_quota", sa.Boolean(), nullable=False),
        sa.Column("source_volid", sa.String(length=36), nullable=True),
        sa.Column("snapshot_id", sa.String(length=36), nullable=True),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("backup_id", sa.String(length=36), nullable=True),
        sa.Column("provider_location", sa.String(length=255), nullable=True),
        sa.Column("provider_auth", sa.String(length=255), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("migration_status", sa.String(length=255), nullable=True),
        sa.Column("name_id", sa.String(length=36), nullable=True),
        sa.Column("replication_status", sa.String(length=255), nullable=True),
        sa.Column("consistencygroup_id", sa.String(length=36), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("launched_at", sa.DateTime(), nullable=True),
        sa.Column("terminated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_type_id"], ["volume_types.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_volumes_volume_type_id"), "volumes", ["volume_type_id"], unique=False)
    op.create_index("volumes_host_idx", "volumes", ["host"], unique=False)
    op.create_index("volumes_project_id_idx", "volumes", ["project_id"], unique=False)
    op.create_index("volumes_status_idx", "volumes", ["status"], unique=False)

    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("volume_type_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("progress", sa.String(length=255), nullable=False),
        sa.Column("provider_location", sa.String(length=255), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("group_snapshot_id", sa.String(length=36), nullable=True),
        sa.Column("use_quota", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_snapshots_volume_id"), "snapshots", ["volume_id"], unique=False)
    op.create_index("snapshots_project_id_idx", "snapshots", ["project_id"], unique=False)

    op.create_table(
        "volume_admin_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("volume_id", "key", name="uniq_volume_admin_metadata0volume_id0key")
    )
    op.create_index(op.f("ix_volume_admin_metadata_volume_id"), "volume_admin_metadata", ["volume_id"], unique=False)

    op.create_table(
        "volume_attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=True),
        sa.Column("attached_host", sa.String(length=255), nullable=True),
        sa.Column("mountpoint", sa.String(length=255), nullable=True),
        sa.Column("attach_mode", sa.String(length=36), nullable=False),
        sa.Column("attach_status", sa.String(length=255), nullable=False),
        sa.Column("connector", sa.JSON(), nullable=True),
        sa.Column("connection_info", sa.JSON(), nullable=True),
        sa.Column("attach_time", sa.DateTime(), nullable=True),
        sa.Column("detach_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index(op.f("ix_volume_attachments_instance_uuid"), "volume_attachments", ["instance_uuid"], unique=False)
    op.create_index(op.f("ix_volume_attachments_volume_id"), "volume_attachments", ["volume_id"], unique=False)

    op.create_table(
        "volume_glance_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("volume_id", "key", name="uniq_volume_glance_metadata0volume_id0key")
    )
    op.create_index(op.f("ix_volume_glance_metadata_volume_id"), "volume_glance_metadata", ["volume_id"], unique=False)

    op.create_table(
        "volume_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volume_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("volume_id", "key", name="uniq_volume_metadata0volume_id0key")
    )
    op.create_index(op.f("ix_volume_metadata_volume_id"), "volume_metadata", ["volume_id"], unique=False)

    op.create_table(
        "snapshot_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "key", name="uniq_snapshot_metadata0snapshot_id0key")
    )
    op.create_index(op.f("ix_snapshot_metadata_snapshot_id"), "snapshot_metadata", ["snapshot_id"], unique=False)

    _create_default_type()


def _create_default_type() -> None:
    """The ``__DEFAULT__`` type every deployment starts with (``[DEFAULT]
    default_volume_type``), public and without extra specs."""
    types = sa.table("volume_types", sa.column("id", sa.String), sa.column("name", sa.String),
                     sa.column("description", sa.String), sa.column("is_public", sa.Boolean),
                     sa.column("created_at", sa.DateTime))
    op.bulk_insert(types, [{"id": DEFAULT_TYPE_ID, "name": "__DEFAULT__",
                            "description": "Default Volume Type", "is_public": True,
                            "created_at": _utcnow()}])


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)

"""servers: instances (metadata, tags, faults, actions and events, block device
mappings), services and compute nodes, aggregates, migrations, quotas, server
groups and console tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aggregates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('uuid')
    )
    op.create_table('block_device_mapping',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=255), nullable=False),
    sa.Column('destination_type', sa.String(length=255), nullable=False),
    sa.Column('device_name', sa.String(length=255), nullable=True),
    sa.Column('boot_index', sa.Integer(), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=True),
    sa.Column('volume_type', sa.String(length=255), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
    sa.Column('disk_bus', sa.String(length=255), nullable=True),
    sa.Column('device_type', sa.String(length=255), nullable=True),
    sa.Column('tag', sa.String(length=255), nullable=True),
    sa.Column('attachment_id', sa.String(length=36), nullable=True),
    sa.Column('connection_info', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid')
    )
    op.create_index(op.f('ix_block_device_mapping_instance_uuid'), 'block_device_mapping', ['instance_uuid'], unique=False)
    op.create_index(op.f('ix_block_device_mapping_volume_id'), 'block_device_mapping', ['volume_id'], unique=False)
    op.create_table('compute_nodes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('hypervisor_hostname', sa.String(length=255), nullable=False),
    sa.Column('hypervisor_type', sa.String(length=255), nullable=False),
    sa.Column('hypervisor_version', sa.Integer(), nullable=False),
    sa.Column('host_ip', sa.String(length=39), nullable=True),
    sa.Column('vcpus', sa.Integer(), nullable=False),
    sa.Column('memory_mb', sa.Integer(), nullable=False),
    sa.Column('local_gb', sa.Integer(), nullable=False),
    sa.Column('vcpus_used', sa.Integer(), nullable=False),
    sa.Column('memory_mb_used', sa.Integer(), nullable=False),
    sa.Column('local_gb_used', sa.Integer(), nullable=False),
    sa.Column('running_vms', sa.Integer(), nullable=False),
    sa.Column('disk_available_least', sa.Integer(), nullable=True),
    sa.Column('cpu_info', sa.JSON(), nullable=False),
    sa.Column('cpu_allocation_ratio', sa.Float(), nullable=False),
    sa.Column('ram_allocation_ratio', sa.Float(), nullable=False),
    sa.Column('disk_allocation_ratio', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('host', 'hypervisor_hostname', name='uniq_compute_nodes0host0hypervisor_hostname'),
    sa.UniqueConstraint('uuid')
    )
    op.create_table('console_auth_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=255), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('console_type', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('access_url_base', sa.String(length=255), nullable=True),
    sa.Column('expires', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_console_auth_tokens_expires'), 'console_auth_tokens', ['expires'], unique=False)
    op.create_index(op.f('ix_console_auth_tokens_instance_uuid'), 'console_auth_tokens', ['instance_uuid'], unique=False)
    op.create_table('instance_actions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('action', sa.String(length=255), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('project_id', sa.String(length=255), nullable=True),
    sa.Column('message', sa.String(length=255), nullable=True),
    sa.Column('start_time', sa.DateTime(), nullable=False),
    sa.Column('finish_time', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('instance_actions_instance_uuid_request_id_idx', 'instance_actions', ['instance_uuid', 'request_id'], unique=False)
    op.create_table('instance_faults',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=255), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_instance_faults_instance_uuid'), 'instance_faults', ['instance_uuid'], unique=False)
    op.create_table('instance_groups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('policy', sa.String(length=255), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid')
    )
    op.create_index(op.f('ix_instance_groups_project_id'), 'instance_groups', ['project_id'], unique=False)
    op.create_table('instances',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('display_description', sa.Text(), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('node', sa.String(length=255), nullable=True),
    sa.Column('launched_on', sa.String(length=255), nullable=True),
    sa.Column('availability_zone', sa.String(length=255), nullable=True),
    sa.Column('vm_state', sa.String(length=255), nullable=False),
    sa.Column('task_state', sa.String(length=255), nullable=True),
    sa.Column('power_state', sa.Integer(), nullable=False),
    sa.Column('image_ref', sa.String(length=255), nullable=True),
    sa.Column('flavor', sa.JSON(), nullable=False),
    sa.Column('old_flavor', sa.JSON(), nullable=True),
    sa.Column('new_flavor', sa.JSON(), nullable=True),
    sa.Column('memory_mb', sa.Integer(), nullable=False),
    sa.Column('vcpus', sa.Integer(), nullable=False),
    sa.Column('root_gb', sa.Integer(), nullable=False),
    sa.Column('ephemeral_gb', sa.Integer(), nullable=False),
    sa.Column('key_name', sa.String(length=255), nullable=True),
    sa.Column('key_data', sa.Text(), nullable=True),
    sa.Column('user_data', sa.Text(), nullable=True),
    sa.Column('config_drive', sa.String(length=255), nullable=False),
    sa.Column('access_ip_v4', sa.String(length=39), nullable=True),
    sa.Column('access_ip_v6', sa.String(length=39), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('locked_by', sa.String(length=16), nullable=True),
    sa.Column('locked_reason', sa.Text(), nullable=True),
    sa.Column('launch_index', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.String(length=255), nullable=True),
    sa.Column('root_device_name', sa.String(length=255), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('auto_disk_config', sa.Boolean(), nullable=False),
    sa.Column('network_info', sa.JSON(), nullable=False),
    sa.Column('security_groups', sa.JSON(), nullable=False),
    sa.Column('request_spec', sa.JSON(), nullable=False),
    sa.Column('system_metadata', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('launched_at', sa.DateTime(), nullable=True),
    sa.Column('terminated_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid', name='uniq_instances0uuid')
    )
    op.create_index('instances_host_node_deleted_idx', 'instances', ['host', 'node', 'deleted'], unique=False)
    op.create_index('instances_project_id_deleted_idx', 'instances', ['project_id', 'deleted'], unique=False)
    op.create_index('instances_reservation_id_idx', 'instances', ['reservation_id'], unique=False)
    op.create_table('migrations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('migration_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('source_compute', sa.String(length=255), nullable=True),
    sa.Column('source_node', sa.String(length=255), nullable=True),
    sa.Column('dest_compute', sa.String(length=255), nullable=True),
    sa.Column('dest_node', sa.String(length=255), nullable=True),
    sa.Column('old_flavor_id', sa.String(length=255), nullable=True),
    sa.Column('new_flavor_id', sa.String(length=255), nullable=True),
    sa.Column('project_id', sa.String(length=255), nullable=True),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid')
    )
    op.create_index(op.f('ix_migrations_instance_uuid'), 'migrations', ['instance_uuid'], unique=False)
    op.create_table('quotas',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'user_id', 'resource', name='uniq_quotas0project_id0user_id0resource')
    )
    op.create_index(op.f('ix_quotas_project_id'), 'quotas', ['project_id'], unique=False)
    op.create_table('services',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('binary', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=255), nullable=True),
    sa.Column('forced_down', sa.Boolean(), nullable=False),
    sa.Column('last_seen_up', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('host', 'binary', name='uniq_services0host0binary'),
    sa.UniqueConstraint('uuid')
    )
    op.create_table('aggregate_hosts',
    sa.Column('aggregate_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['aggregate_id'], ['aggregates.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('aggregate_id', 'host')
    )
    op.create_table('aggregate_metadata',
    sa.Column('aggregate_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['aggregate_id'], ['aggregates.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('aggregate_id', 'key')
    )
    op.create_table('instance_actions_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=255), nullable=False),
    sa.Column('start_time', sa.DateTime(), nullable=False),
    sa.Column('finish_time', sa.DateTime(), nullable=True),
    sa.Column('result', sa.String(length=255), nullable=True),
    sa.Column('traceback', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['instance_actions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_instance_actions_events_action_id'), 'instance_actions_events', ['action_id'], unique=False)
    op.create_table('instance_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['instance_groups.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'instance_uuid')
    )
    op.create_index(op.f('ix_instance_group_member_instance_uuid'), 'instance_group_member', ['instance_uuid'], unique=False)
    op.create_table('instance_metadata',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['instances.uuid'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_uuid', 'key', name='uniq_instance_metadata0instance_uuid0key')
    )
    op.create_index(op.f('ix_instance_metadata_instance_uuid'), 'instance_metadata', ['instance_uuid'], unique=False)
    op.create_table('tags',
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['instance_uuid'], ['instances.uuid'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_uuid', 'tag')
    )
    op.create_index(op.f('ix_tags_tag'), 'tags', ['tag'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tags_tag'), table_name='tags')
    op.drop_table('tags')
    op.drop_index(op.f('ix_instance_metadata_instance_uuid'), table_name='instance_metadata')
    op.drop_table('instance_metadata')
    op.drop_index(op.f('ix_instance_group_member_instance_uuid'), table_name='instance_group_member')
    op.drop_table('instance_group_member')
    op.drop_index(op.f('ix_instance_actions_events_action_id'), table_name='instance_actions_events')
    op.drop_table('instance_actions_events')
    op.drop_table('aggregate_metadata')
    op.drop_table('aggregate_hosts')
    op.drop_table('services')
    op.drop_index(op.f('ix_quotas_project_id'), table_name='quotas')
    op.drop_table('quotas')
    op.drop_index(op.f('ix_migrations_instance_uuid'), table_name='migrations')
    op.drop_table('migrations')
    op.drop_index('instances_reservation_id_idx', table_name='instances')
    op.drop_index('instances_project_id_deleted_idx', table_name='instances')
    op.drop_index('instances_host_node_deleted_idx', table_name='instances')
    op.drop_table('instances')
    op.drop_index(op.f('ix_instance_groups_project_id'), table_name='instance_groups')
    op.drop_table('instance_groups')
    op.drop_index(op.f('ix_instance_faults_instance_uuid'), table_name='instance_faults')
    op.drop_table('instance_faults')
    op.drop_index('instance_actions_instance_uuid_request_id_idx', table_name='instance_actions')
    op.drop_table('instance_actions')
    op.drop_index(op.f('ix_console_auth_tokens_instance_uuid'), table_name='console_auth_tokens')
    op.drop_index(op.f('ix_console_auth_tokens_expires'), table_name='console_auth_tokens')
    op.drop_table('console_auth_tokens')
    op.drop_table('compute_nodes')
    op.drop_index(op.f('ix_block_device_mapping_volume_id'), table_name='block_device_mapping')
    op.drop_index(op.f('ix_block_device_mapping_instance_uuid'), table_name='block_device_mapping')
    op.drop_table('block_device_mapping')
    op.drop_table('aggregates')

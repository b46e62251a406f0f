"""instances: a covering index for the scheduler's usage sums

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 00:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("instances_usage_idx", "instances",
                    ["deleted", "host", "node", "vcpus", "memory_mb", "root_gb",
                     "ephemeral_gb"], unique=False)


def downgrade() -> None:
    op.drop_index("instances_usage_idx", table_name="instances")

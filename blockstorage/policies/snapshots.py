"""Snapshot policies (B1 creates, B3 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN, PROJECT_MEMBER, PROJECT_READER
from blockstorage.policies.base import one as _rule

SNAPSHOTS = "/snapshots"
SNAPSHOT = SNAPSHOTS + "/{snapshot_id}"
ACTION = SNAPSHOT + "/action"
METADATA = SNAPSHOT + "/metadata"

RULES: list[policy.RuleDefault] = [
    _rule("volume:get_snapshot", PROJECT_READER, "Show a snapshot.", "GET", SNAPSHOT),
    _rule("volume:get_all_snapshots", PROJECT_READER, "List snapshots.", "GET", SNAPSHOTS),
    _rule("volume:create_snapshot", PROJECT_MEMBER, "Create a snapshot.", "POST",
          SNAPSHOTS),
    _rule("volume:update_snapshot", PROJECT_MEMBER, "Update a snapshot.", "PUT", SNAPSHOT),
    _rule("volume:delete_snapshot", PROJECT_MEMBER, "Delete a snapshot.", "DELETE",
          SNAPSHOT),
    _rule("volume_extension:extended_snapshot_attributes", PROJECT_READER,
          "Show os-extended-snapshot-attributes of snapshots.", "GET", SNAPSHOT),
    _rule("volume:get_snapshot_metadata", PROJECT_READER, "Show a snapshot's metadata.",
          "GET", METADATA),
    _rule("volume:update_snapshot_metadata", PROJECT_MEMBER,
          "Add or replace snapshot metadata.", "PUT", METADATA),
    _rule("volume:delete_snapshot_metadata", PROJECT_MEMBER,
          "Delete a snapshot metadata item.", "DELETE", METADATA + "/{key}"),
    _rule("volume_extension:snapshot_admin_actions:reset_status", ADMIN,
          "Reset a snapshot's status.", "POST", ACTION + " (os-reset_status)"),
    _rule("volume_extension:snapshot_admin_actions:force_delete", ADMIN,
          "Delete a snapshot whatever its status.", "POST", ACTION + " (os-force_delete)"),
    _rule("snapshot_extension:snapshot_actions:update_snapshot_status", PROJECT_MEMBER,
          "Update a snapshot's status (from the storage backend).", "POST",
          ACTION + " (os-update_snapshot_status)"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

"""Backup policies (B1 creates, B3 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN, PROJECT_MEMBER, PROJECT_READER
from blockstorage.policies.base import one as _rule

BACKUPS = "/backups"
BACKUP = BACKUPS + "/{backup_id}"
ACTION = BACKUP + "/action"

RULES: list[policy.RuleDefault] = [
    _rule("backup:get_all", PROJECT_READER, "List backups.", "GET", BACKUPS),
    _rule("backup:get", PROJECT_READER, "Show a backup.", "GET", BACKUP),
    _rule("backup:create", PROJECT_MEMBER, "Create a backup.", "POST", BACKUPS),
    _rule("backup:update", PROJECT_MEMBER, "Update a backup.", "PUT", BACKUP),
    _rule("backup:delete", PROJECT_MEMBER, "Delete a backup.", "DELETE", BACKUP),
    _rule("backup:restore", PROJECT_MEMBER, "Restore a backup.", "POST",
          BACKUP + "/restore"),
    _rule("backup:backup_project_attribute", ADMIN,
          "Show os-backup-project-attr:project_id of backups.", "GET", BACKUP),
    _rule("backup:export-import", ADMIN, "Export a backup's record.", "GET",
          BACKUP + "/export_record"),
    _rule("backup:backup-import", ADMIN, "Import a backup record.", "POST",
          BACKUPS + "/import_record"),
    _rule("volume_extension:backup_admin_actions:reset_status", ADMIN,
          "Reset a backup's status.", "POST", ACTION + " (os-reset_status)"),
    _rule("volume_extension:backup_admin_actions:force_delete", ADMIN,
          "Delete a backup whatever its status.", "POST", ACTION + " (os-force_delete)"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

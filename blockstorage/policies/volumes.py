"""Volume policies: CRUD, metadata, the ``os-*`` actions and the extended
attributes shown to admins (owners: B1 creates, B2 adds rules it needs)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN, PROJECT_MEMBER, PROJECT_READER
from blockstorage.policies.base import one as _rule

VOLUMES = "/volumes"
VOLUME = VOLUMES + "/{volume_id}"
ACTION = VOLUME + "/action"
METADATA = VOLUME + "/metadata"


def _action(name: str, check: str, description: str, action: str) -> policy.RuleDefault:
    return _rule(name, check, description, "POST", "%s (%s)" % (ACTION, action))


RULES: list[policy.RuleDefault] = [
    _rule("volume:create", PROJECT_MEMBER, "Create a volume.", "POST", VOLUMES),
    _rule("volume:create_from_image", PROJECT_MEMBER, "Create a volume from an image.",
          "POST", VOLUMES),
    _rule("volume:get", PROJECT_READER, "Show a volume.", "GET", VOLUME),
    _rule("volume:get_all", PROJECT_READER, "List volumes or get their summary.", "GET",
          VOLUMES),
    _rule("volume:update", PROJECT_MEMBER, "Update a volume.", "PUT", VOLUME),
    _rule("volume:delete", PROJECT_MEMBER, "Delete a volume.", "DELETE", VOLUME),
    _rule("volume:multiattach", PROJECT_MEMBER, "Create a multiattach volume.", "POST",
          VOLUMES),
    _rule("volume_extension:volume_host_attribute", ADMIN,
          "Show os-vol-host-attr:host of volumes.", "GET", VOLUME),
    _rule("volume_extension:volume_tenant_attribute", PROJECT_READER,
          "Show os-vol-tenant-attr:tenant_id of volumes.", "GET", VOLUME),
    _rule("volume_extension:volume_mig_status_attribute", ADMIN,
          "Show the os-vol-mig-status-attr attributes of volumes.", "GET", VOLUME),
    _rule("volume_extension:volume_image_metadata:show", PROJECT_READER,
          "Show volume_image_metadata of volumes.", "GET", VOLUME),
    _rule("volume:get_volume_metadata", PROJECT_READER, "Show a volume's metadata.", "GET",
          METADATA),
    _rule("volume:create_volume_metadata", PROJECT_MEMBER, "Add volume metadata.", "POST",
          METADATA),
    _rule("volume:update_volume_metadata", PROJECT_MEMBER, "Replace volume metadata.",
          "PUT", METADATA),
    _rule("volume:delete_volume_metadata", PROJECT_MEMBER, "Delete a volume metadata item.",
          "DELETE", METADATA + "/{key}"),
    _rule("volume:update_volume_admin_metadata", ADMIN,
          "Change a volume's admin metadata.", "POST", ACTION),
    _action("volume:extend", PROJECT_MEMBER, "Extend a volume.", "os-extend"),
    _action("volume:extend_attached_volume", PROJECT_MEMBER, "Extend an attached volume.",
            "os-extend"),
    _action("volume:retype", PROJECT_MEMBER, "Change a volume's type.", "os-retype"),
    _action("volume:update_readonly_flag", PROJECT_MEMBER,
            "Set a volume's read-only flag.", "os-update_readonly_flag"),
    _action("volume:revert_to_snapshot", PROJECT_MEMBER,
            "Revert a volume to its latest snapshot.", "revert"),
    _action("volume_extension:volume_actions:upload_image", PROJECT_MEMBER,
            "Upload a volume to the image service.", "os-volume_upload_image"),
    _action("volume_extension:volume_actions:upload_public", ADMIN,
            "Upload a volume as a public image.", "os-volume_upload_image"),
    _action("volume_extension:volume_actions:initialize_connection", PROJECT_MEMBER,
            "Export a volume to a host (legacy attach).", "os-initialize_connection"),
    _action("volume_extension:volume_actions:terminate_connection", PROJECT_MEMBER,
            "Remove a volume's export (legacy detach).", "os-terminate_connection"),
    _action("volume_extension:volume_actions:reserve", PROJECT_MEMBER,
            "Reserve a volume for attaching.", "os-reserve"),
    _action("volume_extension:volume_actions:unreserve", PROJECT_MEMBER,
            "Unreserve a volume.", "os-unreserve"),
    _action("volume_extension:volume_actions:begin_detaching", PROJECT_MEMBER,
            "Mark a volume as detaching.", "os-begin_detaching"),
    _action("volume_extension:volume_actions:roll_detaching", PROJECT_MEMBER,
            "Undo os-begin_detaching.", "os-roll_detaching"),
    _action("volume_extension:volume_actions:attach", PROJECT_MEMBER,
            "Mark a volume attached (legacy attach).", "os-attach"),
    _action("volume_extension:volume_actions:detach", PROJECT_MEMBER,
            "Mark a volume detached (legacy detach).", "os-detach"),
    _action("volume_extension:volume_admin_actions:reset_status", ADMIN,
            "Reset a volume's status.", "os-reset_status"),
    _action("volume_extension:volume_admin_actions:force_delete", ADMIN,
            "Delete a volume whatever its status.", "os-force_delete"),
    _action("volume_extension:volume_admin_actions:force_detach", ADMIN,
            "Detach a volume whatever its status.", "os-force_detach"),
    _action("volume_extension:volume_admin_actions:migrate_volume", ADMIN,
            "Migrate a volume to another backend.", "os-migrate_volume"),
    _action("volume_extension:volume_admin_actions:migrate_volume_completion", ADMIN,
            "Complete a volume migration.", "os-migrate_volume_completion"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

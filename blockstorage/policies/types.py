"""Volume type policies: everyone reads the public types, admins manage them,
their extra specs and who may use the private ones (B1 creates, B3 adds)."""
from __future__ import annotations

from oslo_policy import policy

from blockstorage.policies.base import ADMIN, ANY_READER
from blockstorage.policies.base import one as _rule

TYPES = "/types"
TYPE = TYPES + "/{type_id}"
SPECS = TYPE + "/extra_specs"
ACTION = TYPE + "/action"

RULES: list[policy.RuleDefault] = [
    _rule("volume_extension:types_manage", ADMIN, "Create, update and delete volume types.",
          "POST", TYPES),
    _rule("volume_extension:type_create", ADMIN, "Create a volume type.", "POST", TYPES),
    _rule("volume_extension:type_update", ADMIN, "Update a volume type.", "PUT", TYPE),
    _rule("volume_extension:type_delete", ADMIN, "Delete a volume type.", "DELETE", TYPE),
    _rule("volume_extension:type_get", ANY_READER, "Show a volume type.", "GET", TYPE),
    _rule("volume_extension:type_get_all", ANY_READER, "List volume types.", "GET", TYPES),
    _rule("volume_extension:access_types_extra_specs", ADMIN,
          "Show extra_specs in volume type responses.", "GET", TYPE),
    _rule("volume_extension:access_types_qos_specs_id", ADMIN,
          "Show qos_specs_id in volume type responses.", "GET", TYPE),
    _rule("volume_extension:types_extra_specs:index", ANY_READER,
          "List a volume type's extra specs.", "GET", SPECS),
    _rule("volume_extension:types_extra_specs:show", ANY_READER,
          "Show one extra spec.", "GET", SPECS + "/{extra_spec_key}"),
    _rule("volume_extension:types_extra_specs:create", ADMIN, "Set extra specs.", "POST",
          SPECS),
    _rule("volume_extension:types_extra_specs:update", ADMIN, "Update one extra spec.",
          "PUT", SPECS + "/{extra_spec_key}"),
    _rule("volume_extension:types_extra_specs:delete", ADMIN, "Delete one extra spec.",
          "DELETE", SPECS + "/{extra_spec_key}"),
    _rule("volume_extension:types_extra_specs:read_sensitive", ADMIN,
          "See the extra specs that name backends (volume_backend_name, ...).", "GET",
          SPECS),
    _rule("volume_extension:volume_type_access", ADMIN,
          "List the projects a private type is shared with (and show "
          "os-volume-type-access:is_public).", "GET", TYPE + "/os-volume-type-access"),
    _rule("volume_extension:volume_type_access:addProjectAccess", ADMIN,
          "Share a private volume type with a project.", "POST",
          ACTION + " (addProjectAccess)"),
    _rule("volume_extension:volume_type_access:removeProjectAccess", ADMIN,
          "Stop sharing a private volume type with a project.", "POST",
          ACTION + " (removeProjectAccess)"),
]


def list_rules() -> list[policy.RuleDefault]:
    return list(RULES)

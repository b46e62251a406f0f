"""Request bodies of os-quota-sets and os-quota-class-sets, per microversion (the
resources a body may name shrink at 2.36, 2.50 and 2.57)."""
from __future__ import annotations

from typing import Any

from compute.api.schemas.flavors import BOOLEAN

MAX_INT = 0x7FFFFFFF
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
# The quota-set resources at 2.1, in Nova's order.
QUOTA_SET = ("instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items",
             "injected_files", "injected_file_content_bytes", "injected_file_path_bytes",
             "key_pairs", "security_groups", "security_group_rules", "server_groups",
             "server_group_members")
QUOTA_SET_236 = tuple(r for r in QUOTA_SET if r not in NETWORK)
QUOTA_SET_257 = tuple(r for r in QUOTA_SET_236 if r not in INJECTED)
# A quota class shows no server group limits before 2.50.
QUOTA_CLASS = tuple(r for r in QUOTA_SET if not r.startswith("server_group"))
QUOTA_CLASS_250 = QUOTA_SET_236
QUOTA_CLASS_257 = QUOTA_SET_257

VALUE = {"type": ["integer", "string"], "pattern": r"^-?[0-9]+$", "minimum": -1,
         "maximum": MAX_INT}


def _body(key: str, resources: tuple[str, ...], force: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {name: VALUE for name in resources}
    if force:
        properties["force"] = BOOLEAN
    return {"type": "object",
            "properties": {key: {"type": "object", "properties": properties,
                                 "additionalProperties": False}},
            "required": [key], "additionalProperties": False}


UPDATE = _body("quota_set", QUOTA_SET, True)
UPDATE_236 = _body("quota_set", QUOTA_SET_236, True)
UPDATE_257 = _body("quota_set", QUOTA_SET_257, True)
# A class may be given server group limits at any version (Nova's schema).
CLASS_UPDATE = _body("quota_class_set", QUOTA_SET, False)
CLASS_UPDATE_250 = _body("quota_class_set", QUOTA_CLASS_250, False)
CLASS_UPDATE_257 = _body("quota_class_set", QUOTA_CLASS_257, False)

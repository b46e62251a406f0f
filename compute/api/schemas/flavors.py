"""Request bodies of flavors, extra specs and flavor access (Nova's schemas at 2.1)."""
from __future__ import annotations

from typing import Any

MAX_INT = 2147483647
# Printable, without leading or trailing whitespace (Nova's 'name' format).
NAME = {"type": "string", "minLength": 1, "maxLength": 255,
        "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}
POSITIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1,
            "maximum": MAX_INT}
NON_NEGATIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 0,
                "maximum": MAX_INT}
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
                    "y", "t", False, "False", "FALSE", "false", "0", "OFF", "Off", "off",
                    "NO", "No", "no", "n", "f"]}
TRUE_STRINGS = ("true", "1", "on", "yes", "y", "t")

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": NAME,
                "id": {"type": ["string", "integer", "null"], "minLength": 1,
                       "maxLength": 255, "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
                "ram": POSITIVE,
                "vcpus": POSITIVE,
                "disk": NON_NEGATIVE,
                "OS-FLV-EXT-DATA:ephemeral": NON_NEGATIVE,
                "swap": NON_NEGATIVE,
                "rxtx_factor": {"type": ["number", "string"],
                                "pattern": r"^[0-9]+(\.[0-9]+)?$",
                                "minimum": 0, "exclusiveMinimum": True,
                                "maximum": 3.40282e+38},
                "os-flavor-access:is_public": BOOLEAN,
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

SPEC_KEY = r"^[a-zA-Z0-9-_:. ]{1,255}$"
_SPECS = {"type": "object",
          "patternProperties": {SPEC_KEY: {"type": ["string", "number", "boolean"],
                                           "minLength": 0, "maxLength": 255}},
          "additionalProperties": False}
EXTRA_SPECS_CREATE: dict[str, Any] = {
    "type": "object", "properties": {"extra_specs": _SPECS},
    "required": ["extra_specs"], "additionalProperties": False}
EXTRA_SPEC_UPDATE: dict[str, Any] = dict(_SPECS, minProperties=1, maxProperties=1)

_TENANT = {"type": "object",
           "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255,
                                     "pattern": r"^[a-zA-Z0-9-_]*$"}},
           "required": ["tenant"], "additionalProperties": False}
ACTION: dict[str, Any] = {
    "type": "object",
    "properties": {"addTenantAccess": _TENANT, "removeTenantAccess": _TENANT},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}

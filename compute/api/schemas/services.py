"""Request bodies of os-services (Nova's schemas: the host/binary forms before
2.53, ``PUT /os-services/{uuid}`` from 2.53)."""
from __future__ import annotations

from typing import Any

from compute.api.schemas.flavors import BOOLEAN

HOSTNAME = {"type": "string", "minLength": 1, "maxLength": 255,
            "pattern": r"^[a-zA-Z0-9-._]*$"}
REASON = {"type": "string", "minLength": 1, "maxLength": 255}

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"host": HOSTNAME, "binary": {"type": "string", "minLength": 1,
                                                "maxLength": 255},
                   "disabled_reason": REASON},
    "required": ["host", "binary"],
    "additionalProperties": False,
}
UPDATE_211: dict[str, Any] = dict(UPDATE, properties=dict(UPDATE["properties"],
                                                          forced_down=BOOLEAN))
UPDATE_253: dict[str, Any] = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["enabled", "disabled"]},
                   "disabled_reason": REASON, "forced_down": BOOLEAN},
    "additionalProperties": False,
}

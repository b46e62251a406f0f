"""Request bodies of key pairs (Nova's schema at 2.1)."""
from __future__ import annotations

from typing import Any

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255,
                         "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"},
                "public_key": {"type": "string"},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["keypair"],
    "additionalProperties": False,
}

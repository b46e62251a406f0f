"""Request bodies of key pairs (Nova's schemas at 2.1, 2.2 and 2.10)."""
from __future__ import annotations

import copy
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

# 2.2: the key pair's type; 2.10: an admin creates key pairs for other users.
CREATE_V22: dict[str, Any] = copy.deepcopy(CREATE)
CREATE_V22["properties"]["keypair"]["properties"]["type"] = {"type": "string",
                                                             "enum": ["ssh", "x509"]}
CREATE_V210: dict[str, Any] = copy.deepcopy(CREATE_V22)
CREATE_V210["properties"]["keypair"]["properties"]["user_id"] = {"type": "string"}

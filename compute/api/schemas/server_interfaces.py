"""Request body of ``POST /servers/{id}/os-interface`` (Nova's 2.1 schema; the
``tag`` of 2.49 is beyond the versions served)."""
from __future__ import annotations

from typing import Any

_IP = {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]}

CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interfaceAttachment": {
            "type": "object",
            "properties": {
                "net_id": {"type": "string", "format": "uuid"},
                "port_id": {"type": "string", "format": "uuid"},
                "fixed_ips": {
                    "type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "object",
                              "properties": {"ip_address": _IP},
                              "required": ["ip_address"],
                              "additionalProperties": False},
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

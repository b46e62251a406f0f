"""Request bodies of os-server-groups (``policies`` before 2.64, ``policy`` and
``rules`` from 2.64; the soft policies from 2.15)."""
from __future__ import annotations

from typing import Any

from compute.api.schemas.flavors import NAME

HARD = ["anti-affinity", "affinity"]
ALL = HARD + ["soft-anti-affinity", "soft-affinity"]


def _policies(names: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": [{"type": "string", "enum": names}],
            "uniqueItems": True, "minItems": 1, "maxItems": 1, "additionalItems": False}


def _create(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object",
            "properties": {"server_group": {"type": "object", "properties": properties,
                                            "required": required,
                                            "additionalProperties": False}},
            "required": ["server_group"], "additionalProperties": False}


CREATE = _create({"name": NAME, "policies": _policies(HARD)}, ["name", "policies"])
CREATE_215 = _create({"name": NAME, "policies": _policies(ALL)}, ["name", "policies"])
CREATE_264 = _create({
    "name": NAME,
    "policy": {"type": "string", "enum": ALL},
    "rules": {"type": "object",
              "properties": {"max_server_per_host": {
                  "type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1,
                  "maximum": 0x7FFFFFFF}},
              "additionalProperties": False},
}, ["name", "policy"])

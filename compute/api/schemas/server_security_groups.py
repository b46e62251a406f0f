"""Request bodies of the ``addSecurityGroup`` and ``removeSecurityGroup`` server
actions: ``{"<action>": {"name": <group name or id>}}`` (a blank name is a 400,
as on Nova; other keys beside ``name`` are ignored, as Nova's 2.1 API did)."""
from __future__ import annotations

from typing import Any

_GROUP: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255,
                            "pattern": r"\S"}},
    "required": ["name"],
}


def _action(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: _GROUP}, "required": [name],
            "additionalProperties": False}


ADD = _action("addSecurityGroup")
REMOVE = _action("removeSecurityGroup")

"""Request bodies of os-aggregates (Nova's schemas at 2.1)."""
from __future__ import annotations

from typing import Any

from compute.api.schemas.flavors import NAME
from compute.api.schemas.services import HOSTNAME

# A zone name: printable, no ':' and no leading or trailing whitespace.
ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
        "pattern": r"^(?!\s)[^:\x00-\x1f\x7f]*(?<!\s)$"}


def _wrapped(key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: body}, "required": [key],
            "additionalProperties": False}


CREATE = _wrapped("aggregate", {
    "type": "object", "properties": {"name": NAME, "availability_zone": ZONE},
    "required": ["name"], "additionalProperties": False})
UPDATE = _wrapped("aggregate", {
    "type": "object", "properties": {"name": NAME, "availability_zone": ZONE},
    "minProperties": 1, "additionalProperties": False})
_HOST = {"type": "object", "properties": {"host": HOSTNAME}, "required": ["host"],
         "additionalProperties": False}
_METADATA = {
    "type": "object",
    "properties": {"metadata": {
        "type": "object",
        "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {
            "type": ["string", "null"], "maxLength": 255}},
        "additionalProperties": False}},
    "required": ["metadata"], "additionalProperties": False}
ACTION: dict[str, Any] = {
    "type": "object",
    "properties": {"add_host": _HOST, "remove_host": _HOST, "set_metadata": _METADATA},
    "minProperties": 1, "maxProperties": 1, "additionalProperties": False}

"""Request bodies of servers, their actions, metadata, tags and external events
(Nova's schemas; ``*_V219`` add ``description``).

Server create per microversion (:func:`create`): 2.19 adds ``description``;
2.32 a device ``tag`` on each ``networks`` item and ``block_device_mapping_v2``
item; 2.33 drops it again from block devices and 2.37 from networks (Nova's
regression), 2.42 restores both; 2.37 makes ``networks`` required, a list (of
items whose ``uuid`` must be a UUID) or ``"auto"`` / ``"none"``.
"""
from __future__ import annotations

import copy
from typing import Any

from compute.api.schemas import flavors as flavor_schema

NAME = flavor_schema.NAME
BOOLEAN = flavor_schema.BOOLEAN
POSITIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1,
            "maximum": flavor_schema.MAX_INT}
NON_NEGATIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 0,
                "maximum": flavor_schema.MAX_INT}
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255,
               "pattern": r"^[^\x00-\x1f\x7f]*$"}
METADATA: dict[str, Any] = {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False}
IPV4 = {"type": "string", "format": "ipv4"}
IPV6 = {"type": "string", "format": "ipv6"}
DISK_CONFIG = {"type": "string", "enum": ["AUTO", "MANUAL"]}
UUID = {"type": "string", "format": "uuid"}
TAG = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
MAX_TAGS = 50

_NETWORK = {
    "type": "object",
    "properties": {
        "fixed_ip": {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        "port": {"oneOf": [UUID, {"type": "null"}]},
        "uuid": {"type": "string"},
    },
    "additionalProperties": False}
_BDM_V2 = {
    "type": "object",
    "properties": {
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
                 "pattern": "^[a-zA-Z0-9._-]*$"},
        "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
        "volume_size": NON_NEGATIVE,
        "delete_on_termination": BOOLEAN,
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": r"^[^\s]*$"},
        "disk_bus": {"type": "string"},
        "device_type": {"type": "string"},
        "guest_format": {"type": "string"},
        "no_device": {},
    },
    "additionalProperties": False}
_BDM_V1 = {
    "type": "object",
    "properties": {
        "virtual_name": {"type": "string", "maxLength": 255},
        "volume_id": UUID, "snapshot_id": UUID, "volume_size": NON_NEGATIVE,
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": r"^[^\s]*$"},
        "delete_on_termination": BOOLEAN, "no_device": {},
    },
    "required": ["device_name"],
    "additionalProperties": False}
_PERSONALITY = {
    "type": "array",
    "items": {"type": "object",
              "properties": {"path": {"type": "string"}, "contents": {"type": "string"}},
              "required": ["path", "contents"], "additionalProperties": False}}
_HINTS = {
    "type": "object",
    "properties": {
        "group": UUID,
        "different_host": {"oneOf": [UUID, {"type": "array", "items": UUID}]},
        "same_host": {"oneOf": [UUID, {"type": "array", "items": UUID}]},
        "query": {"type": ["string", "object"]},
        "target_cell": {"type": "string"},
        "build_near_host_ip": {"type": "string", "oneOf": [{"format": "ipv4"},
                                                            {"format": "ipv6"}]},
        "cidr": {"type": "string", "pattern": r"^/[0-9a-f.:]+$"},
    },
    "additionalProperties": True}

_SERVER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": NAME,
        "imageRef": {"type": "string"},
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "adminPass": {"type": "string"},
        "metadata": METADATA,
        "networks": {"type": "array", "items": _NETWORK},
        "accessIPv4": IPV4,
        "accessIPv6": IPV6,
        "OS-DCF:diskConfig": DISK_CONFIG,
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "block_device_mapping": {"type": "array", "items": _BDM_V1},
        "block_device_mapping_v2": {"type": "array", "items": _BDM_V2},
        "config_drive": BOOLEAN,
        "key_name": NAME,
        "min_count": POSITIVE,
        "max_count": POSITIVE,
        "return_reservation_id": BOOLEAN,
        "security_groups": {"type": "array",
                            "items": {"type": "object",
                                      "properties": {"name": {"type": "string",
                                                              "minLength": 1,
                                                              "maxLength": 255}},
                                      "additionalProperties": False}},
        "user_data": {"type": "string", "maxLength": 65535},
        "personality": _PERSONALITY,
    },
    "required": ["name", "flavorRef"],
    "additionalProperties": False}


def _with(schema: dict[str, Any], wrapper: str, **extra: Any) -> dict[str, Any]:
    found = copy.deepcopy(schema)
    found["properties"][wrapper]["properties"].update(extra)
    return found


CREATE: dict[str, Any] = {
    "type": "object",
    "properties": {"server": _SERVER, "os:scheduler_hints": _HINTS,
                   "OS-SCH-HNT:scheduler_hints": _HINTS},
    "required": ["server"],
    "additionalProperties": False}
CREATE_V219 = _with(CREATE, "server", description=DESCRIPTION)


def _create_at(version: tuple[int, int]) -> dict[str, Any]:
    found = copy.deepcopy(CREATE_V219 if version >= (2, 19) else CREATE)
    server = found["properties"]["server"]
    network = server["properties"]["networks"]["items"]
    if (2, 32) <= version < (2, 37) or version >= (2, 42):
        network["properties"]["tag"] = TAG
    if version == (2, 32) or version >= (2, 42):
        server["properties"]["block_device_mapping_v2"]["items"]["properties"]["tag"] = TAG
    if version >= (2, 37):
        network["properties"]["uuid"] = UUID
        server["properties"]["networks"] = {"oneOf": [
            server["properties"]["networks"], {"type": "string", "enum": ["none", "auto"]}]}
        server["required"] = server["required"] + ["networks"]
    return found


# The versions at which the create schema changes, each with its schema (built
# once: validators are cached per schema object).
_CREATE_STEPS = ((2, 1), (2, 19), (2, 32), (2, 33), (2, 37), (2, 42))
_CREATE_AT = {step: _create_at(step) for step in _CREATE_STEPS}


def create(version: tuple[int, int]) -> dict[str, Any]:
    """The server create schema of a request at ``version``."""
    return _CREATE_AT[max(s for s in _CREATE_STEPS if s <= version)]

UPDATE: dict[str, Any] = {
    "type": "object",
    "properties": {"server": {"type": "object",
                              "properties": {"name": NAME, "accessIPv4": IPV4,
                                             "accessIPv6": IPV6,
                                             "OS-DCF:diskConfig": DISK_CONFIG},
                              "additionalProperties": False}},
    "required": ["server"],
    "additionalProperties": False}
UPDATE_V219 = _with(UPDATE, "server", description=DESCRIPTION)

REBUILD: dict[str, Any] = {
    "type": "object",
    "properties": {"rebuild": {
        "type": "object",
        "properties": {"imageRef": {"type": "string"}, "name": NAME,
                       "adminPass": {"type": "string"}, "metadata": METADATA,
                       "preserve_ephemeral": BOOLEAN, "OS-DCF:diskConfig": DISK_CONFIG,
                       "accessIPv4": IPV4, "accessIPv6": IPV6, "personality": _PERSONALITY},
        "required": ["imageRef"],
        "additionalProperties": False}},
    "required": ["rebuild"],
    "additionalProperties": False}
REBUILD_V219 = _with(REBUILD, "rebuild", description=DESCRIPTION)


def action(name: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The schema of ``{"<name>": <body>}`` (a ``None`` body: null or anything)."""
    return {"type": "object", "properties": {name: body if body is not None else {}},
            "required": [name], "additionalProperties": False}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "object", "properties": properties,
                             "additionalProperties": False}
    if required:
        found["required"] = required
    return found


REBOOT = action("reboot", _object(
    {"type": {"type": "string", "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}},
    ["type"]))
RESIZE = action("resize", _object(
    {"flavorRef": {"type": ["string", "integer"], "minLength": 1},
     "OS-DCF:diskConfig": DISK_CONFIG}, ["flavorRef"]))
CREATE_IMAGE = action("createImage", _object({"name": NAME, "metadata": METADATA},
                                             ["name"]))
CREATE_BACKUP = action("createBackup", _object(
    {"name": NAME, "backup_type": {"type": "string"}, "rotation": NON_NEGATIVE,
     "metadata": METADATA}, ["name", "backup_type", "rotation"]))
CONSOLE_OUTPUT = action("os-getConsoleOutput", _object(
    {"length": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$",
                "minimum": -1}}, []))
RESET_STATE = action("os-resetState", _object(
    {"state": {"type": "string", "enum": ["active", "error"]}}, ["state"]))
CHANGE_PASSWORD = action("changePassword", _object({"adminPass": {"type": "string"}},
                                                   ["adminPass"]))
MIGRATE = action("migrate", {"type": ["null", "object"], "properties": {},
                             "additionalProperties": False})

METADATA_ALL: dict[str, Any] = _object({"metadata": METADATA}, ["metadata"])
METADATA_ITEM: dict[str, Any] = _object(
    {"meta": dict(METADATA, minProperties=1, maxProperties=1)}, ["meta"])
TAGS: dict[str, Any] = _object({"tags": {"type": "array", "items": TAG,
                                         "maxItems": MAX_TAGS}}, ["tags"])
EXTERNAL_EVENTS: dict[str, Any] = _object({"events": {
    "type": "array", "minItems": 1,
    "items": _object({"server_uuid": UUID,
                      "name": {"type": "string",
                               "enum": ["network-changed", "network-vif-plugged",
                                        "network-vif-unplugged", "network-vif-deleted"]},
                      "status": {"type": "string",
                                 "enum": ["failed", "completed", "in-progress"]},
                      "tag": {"type": "string", "maxLength": 255}},
                     ["server_uuid", "name"])}}, ["events"])

"""Request bodies of live migration and evacuation (Nova's schemas):
``os-migrateLive`` before 2.25 (``block_migration`` and ``disk_over_commit``
booleans, all three keys required) and from 2.25 (``block_migration`` may be
``"auto"``, no ``disk_over_commit``); ``evacuate`` before 2.14
(``onSharedStorage`` required) and from 2.14 (without it); both take a
``force`` boolean from 2.29 (evacuate) and 2.30 (``os-migrateLive``)."""
from __future__ import annotations

from typing import Any, cast

from compute.api.schemas.flavors import BOOLEAN
from compute.api.schemas.services import HOSTNAME
from compute.api.schemas.servers import action

HOST: dict[str, Any] = dict(HOSTNAME, type=["string", "null"])
_BOOLEANS = list(cast(list[Any], BOOLEAN["enum"]))
BLOCK_MIGRATION_225: dict[str, Any] = dict(BOOLEAN, enum=_BOOLEANS + ["auto"])


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "object", "properties": properties,
                             "additionalProperties": False}
    if required:
        found["required"] = required
    return found


MIGRATE_LIVE = action("os-migrateLive", _object(
    {"block_migration": BOOLEAN, "disk_over_commit": BOOLEAN, "host": HOST},
    ["block_migration", "disk_over_commit", "host"]))
MIGRATE_LIVE_225 = action("os-migrateLive", _object(
    {"block_migration": BLOCK_MIGRATION_225, "host": HOST}, ["block_migration", "host"]))
MIGRATE_LIVE_230 = action("os-migrateLive", _object(
    {"block_migration": BLOCK_MIGRATION_225, "host": HOST, "force": BOOLEAN},
    ["block_migration", "host"]))
EVACUATE = action("evacuate", _object(
    {"host": HOSTNAME, "onSharedStorage": BOOLEAN, "adminPass": {"type": "string"}},
    ["onSharedStorage"]))
EVACUATE_214 = action("evacuate", _object(
    {"host": HOSTNAME, "adminPass": {"type": "string"}}, []))
EVACUATE_229 = action("evacuate", _object(
    {"host": HOSTNAME, "adminPass": {"type": "string"}, "force": BOOLEAN}, []))
FORCE_COMPLETE = action("force_complete", {"type": "null"})

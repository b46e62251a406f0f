"""Values as people read them."""
from __future__ import annotations

import datetime
from typing import Any

# Statuses in which something is still changing: its table row refreshes itself.
TRANSITIONAL = {
    "BUILD", "REBUILD", "RESIZE", "REBOOT", "HARD_REBOOT", "MIGRATING", "PASSWORD",
    "REVERT_RESIZE", "SHELVED", "queued", "saving", "importing", "uploading", "creating",
    "attaching", "detaching", "deleting", "extending", "downloading", "backing-up",
    "restoring-backup", "reserved", "retyping", "maintenance", "restoring", "PENDING_CREATE",
    "PENDING_UPDATE", "PENDING_DELETE"}
_GOOD = {"ACTIVE", "active", "available", "in-use", "UP", "up", "enabled", "True"}
_BAD = {"ERROR", "error", "killed", "DOWN", "down", "error_deleting", "error_extending",
        "error_restoring", "disabled", "False"}


def transitional(status: Any, task_state: Any = None) -> bool:
    return bool(task_state) or str(status) in TRANSITIONAL


def status_class(status: Any) -> str:
    text = str(status)
    if text in _GOOD:
        return "ok"
    if text in _BAD:
        return "bad"
    if text in TRANSITIONAL:
        return "busy"
    return "neutral"


def size(num: Any, unit: str = "B") -> str:
    """1536 → '1.5 KiB'; ``unit`` is what ``num`` counts (B, MiB or GiB)."""
    if num is None or num == "":
        return "-"
    value = float(num)
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    idx = units.index(unit)
    while value >= 1024 and idx < len(units) - 1:
        value /= 1024
        idx += 1
    return ("%d %s" if value == int(value) else "%.1f %s") % (value, units[idx])


def when(value: Any) -> str:
    """An API timestamp as 'YYYY-MM-DD HH:MM UTC' (or '-')."""
    if not value:
        return "-"
    text = str(value).replace("Z", "+00:00")
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def get(row: Any, key: str) -> Any:
    """``row.key`` or ``row[key]``; dots walk into nested values."""
    value = row
    for part in key.split("."):
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
    return value

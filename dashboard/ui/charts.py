"""Usage charts ("used of limit" donuts) for the overview and the hypervisors."""
from __future__ import annotations

from typing import Any

from dashboard.ui import format as fmt


def _num(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def chart(label: str, used: Any, limit: Any, unit: str = "") -> dict[str, Any]:
    """One chart; a negative ``limit`` (or None) means unlimited. ``unit`` (MiB,
    GiB) makes the figures sizes."""
    used_n = _num(used)
    limit_n = -1 if limit is None else _num(limit)
    pct = 0 if limit_n <= 0 else min(100, round(100 * used_n / limit_n))

    def show(num: int) -> str:
        return fmt.size(num, unit) if unit else str(num)

    return {"label": label, "used": show(used_n), "pct": pct,
            "limit": "unlimited" if limit_n < 0 else show(limit_n),
            "level": "bad" if pct >= 90 else "busy" if pct >= 70 else "ok"}

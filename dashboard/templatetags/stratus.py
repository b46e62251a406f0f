"""Template filters: sizes, times and status badges."""
from __future__ import annotations

from typing import Any

from django import template

from dashboard.ui import format as fmt

register = template.Library()


@register.filter
def filesize(value: Any, unit: str = "B") -> str:
    return fmt.size(value, unit)


@register.filter
def when(value: Any) -> str:
    return fmt.when(value)


@register.filter
def status_class(value: Any) -> str:
    return fmt.status_class(value)


@register.filter
def get(value: Any, key: str) -> Any:
    return fmt.get(value, key)


@register.filter
def percent(used: Any, limit: Any) -> int:
    try:
        used_f, limit_f = float(used or 0), float(limit)
    except (TypeError, ValueError):
        return 0
    if limit_f <= 0:
        return 0
    return min(100, int(round(100 * used_f / limit_f)))

"""limit/marker parsing and ``links`` building, as the OpenStack APIs define them."""
from __future__ import annotations

from typing import Any
from urllib import parse

from common import exception


def limit_and_marker(params: Any, max_limit: int = 1000) -> tuple[int, str | None]:
    """Read ``limit`` and ``marker`` from query parameters.

    :raises: ValidationError when limit is not a non-negative integer.
    """
    raw = params.get("limit")
    limit = max_limit
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise exception.ValidationError(field="limit", detail="must be an integer")
        if limit < 0:
            raise exception.ValidationError(field="limit", detail="must be >= 0")
        limit = min(limit, max_limit)
    return limit, params.get("marker")


def page(items: list[dict[str, Any]], limit: int, marker: str | None,
         key: str = "id") -> tuple[list[dict[str, Any]], str | None]:
    """Cut one page out of ``items`` (already sorted); returns it and the next marker."""
    start = 0
    if marker is not None:
        for index, item in enumerate(items):
            if item.get(key) == marker:
                start = index + 1
                break
        else:
            # Nova, Cinder, Glance and Neutron answer a bad marker with 400.
            raise exception.Invalid("Marker %s could not be found." % marker)
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    return chunk, (chunk[-1][key] if more and chunk else None)


def next_link(url: str, params: Any, marker: str) -> str:
    query = [(k, v) for k, v in params.items() if k != "marker"]
    query.append(("marker", marker))
    return "%s?%s" % (url, parse.urlencode(query))

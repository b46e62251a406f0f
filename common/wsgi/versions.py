"""Version discovery documents."""
from __future__ import annotations

from typing import Any


def version_entry(base_url: str, version_id: str, path: str, status: str,
                  updated: str, media_type: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": version_id,
        "status": status,
        "updated": updated,
        "links": [{"rel": "self", "href": base_url.rstrip("/") + path}],
        "media-types": [{"base": "application/json", "type": media_type}],
    }
    entry.update(extra)
    return entry


def base_url(req: Any, configured: str | None = None) -> str:
    """The public URL this API is reached at (config wins over the Host header)."""
    if configured:
        return configured.rstrip("/")
    return req.host_url + req.script_name

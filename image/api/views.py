"""Glance v2 response bodies (no registry or store access here)."""
from __future__ import annotations

from typing import Any


CORE_KEYS = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
             "os_hash_algo", "os_hash_value", "size", "virtual_size", "container_format",
             "disk_format", "min_disk", "min_ram", "owner", "created_at", "updated_at", "tags")


def image(img: dict[str, Any]) -> dict[str, Any]:
    body = {key: img.get(key) for key in CORE_KEYS}
    body.update(img.get("properties") or {})
    body["tags"] = list(img.get("tags") or [])
    body["self"] = "/v2/images/%s" % img["id"]
    body["file"] = "/v2/images/%s/file" % img["id"]
    body["schema"] = "/v2/schemas/image"
    if img.get("location") and img.get("status") in ("active", "deactivated"):
        # The store's name is the location's scheme (file://..., swift://...).
        body["stores"] = str(img["location"]).split("://", 1)[0] or "file"
    return body


def images(items: list[dict[str, Any]], next_query: str | None,
           first_query: str = "") -> dict[str, Any]:
    first = "/v2/images" + ("?" + first_query if first_query else "")
    body: dict[str, Any] = {"images": [image(i) for i in items], "first": first,
                            "schema": "/v2/schemas/images"}
    if next_query:
        body["next"] = "/v2/images?" + next_query
    return body


def member(m: dict[str, Any]) -> dict[str, Any]:
    return {"image_id": m["image_id"], "member_id": m["member_id"], "status": m["status"],
            "created_at": m["created_at"], "updated_at": m["updated_at"],
            "schema": "/v2/schemas/member"}


def members(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"members": [member(m) for m in items], "schema": "/v2/schemas/members"}


TASK_KEYS = ("id", "type", "status", "owner", "image_id", "request_id", "user_id", "input",
             "result", "message", "expires_at", "created_at", "updated_at")


def task(t: dict[str, Any]) -> dict[str, Any]:
    """One task as GET /v2/images/{image_id}/tasks lists it (Glance also shows
    its soft-delete columns; a task here is removed instead)."""
    body = {key: t.get(key) for key in TASK_KEYS}
    body.update(deleted=False, deleted_at=None)
    return body


def tasks(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tasks": [task(t) for t in items]}

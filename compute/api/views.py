"""Response bodies of the compute API at microversion 2.1."""
from __future__ import annotations

from typing import Any

from common.wsgi import versions


class Links:
    """Nova's ``links``: a versioned self link and an unversioned bookmark."""

    def __init__(self, req: Any, public_endpoint: str | None) -> None:
        self.base = versions.base_url(req, public_endpoint)
        prefix = req.environ.get("stratus.compute.project_prefix", "")
        self.versioned = self.base + "/v2.1" + prefix
        self.unversioned = self.base + prefix

    def item(self, collection: str, item_id: str) -> list[dict[str, str]]:
        return [{"rel": "self", "href": "%s/%s/%s" % (self.versioned, collection, item_id)},
                {"rel": "bookmark",
                 "href": "%s/%s/%s" % (self.unversioned, collection, item_id)}]


def flavor_basic(links: Links, flavor: dict[str, Any]) -> dict[str, Any]:
    return {"id": flavor["flavorid"], "name": flavor["name"],
            "links": links.item("flavors", flavor["flavorid"])}


def flavor_detail(links: Links, flavor: dict[str, Any]) -> dict[str, Any]:
    body = flavor_basic(links, flavor)
    body.update({
        "ram": flavor["memory_mb"], "disk": flavor["root_gb"], "vcpus": flavor["vcpus"],
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral_gb"],
        "OS-FLV-DISABLED:disabled": flavor["disabled"],
        # Before 2.75 a flavor without swap says "" (not 0).
        "swap": flavor["swap"] or "",
        "rxtx_factor": flavor["rxtx_factor"],
        "os-flavor-access:is_public": flavor["is_public"],
    })
    return body


def flavor_access(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def keypair_summary(keypair: dict[str, Any]) -> dict[str, Any]:
    return {"name": keypair["name"], "public_key": keypair["public_key"],
            "fingerprint": keypair["fingerprint"]}


def keypair_created(keypair: dict[str, Any], private_key: str | None) -> dict[str, Any]:
    body = keypair_summary(keypair)
    body["user_id"] = keypair["user_id"]
    if private_key is not None:
        body["private_key"] = private_key
    return body


def keypair_detail(keypair: dict[str, Any]) -> dict[str, Any]:
    body = keypair_created(keypair, None)
    body.update({"id": keypair["id"], "created_at": _time(keypair["created_at"]),
                 "updated_at": _time(keypair["updated_at"]), "deleted": False,
                 "deleted_at": None})
    return body

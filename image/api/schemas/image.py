"""The JSON schemas Glance publishes under /v2/schemas (clients read them)."""
from __future__ import annotations

from typing import Any, Callable

_ID = {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
       "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"}


def _nullable(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": ["null", kind], "description": description, **extra}


def image(conf: Any) -> dict[str, Any]:
    disk = list(conf.image.disk_formats)
    container = list(conf.image.container_formats)
    props: dict[str, Any] = {
        "id": {**_ID, "description": "An identifier for the image"},
        "name": _nullable("string", "Descriptive name for the image", maxLength=255),
        "status": {"type": "string", "readOnly": True, "description": "Status of the image",
                   "enum": ["queued", "saving", "active", "killed", "deleted", "uploading",
                            "importing", "pending_delete", "deactivated"]},
        "visibility": {"type": "string", "description": "Scope of image accessibility",
                       "enum": ["community", "public", "private", "shared"]},
        "protected": {"type": "boolean",
                      "description": "If true, image will not be deletable."},
        "os_hidden": {"type": "boolean",
                      "description": "If true, image will not appear in default listings."},
        "checksum": _nullable("string", "md5 hash of image contents.", readOnly=True,
                              maxLength=32),
        "os_hash_algo": _nullable("string", "Algorithm to calculate the os_hash_value",
                                  readOnly=True, maxLength=64),
        "os_hash_value": _nullable("string", "Hexdigest of the image contents",
                                   readOnly=True, maxLength=128),
        "owner": _nullable("string", "Owner of the image", maxLength=255),
        "size": _nullable("integer", "Size of image file in bytes", readOnly=True),
        "virtual_size": _nullable("integer", "Virtual size of image in bytes",
                                  readOnly=True),
        "container_format": {"type": ["null", "string"], "enum": [None] + container,
                             "description": "Format of the container"},
        "disk_format": {"type": ["null", "string"], "enum": [None] + disk,
                        "description": "Format of the disk"},
        "created_at": {"type": "string", "readOnly": True,
                       "description": "Date and time of image registration"},
        "updated_at": {"type": "string", "readOnly": True,
                       "description": "Date and time of the last image modification"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 255},
                 "description": "List of strings related to the image"},
        "direct_url": {"type": "string", "readOnly": True,
                       "description": "URL to access the image file kept in external store"},
        "min_ram": {"type": "integer",
                    "description": "Amount of ram (in MB) required to boot image."},
        "min_disk": {"type": "integer",
                     "description": "Amount of disk space (in GB) required to boot image."},
        "self": {"type": "string", "readOnly": True, "description": "An image self url"},
        "file": {"type": "string", "readOnly": True, "description": "An image file url"},
        "stores": {"type": "string", "readOnly": True,
                   "description": "Store in which image data resides."},
        "schema": {"type": "string", "readOnly": True,
                   "description": "An image schema url"},
        "locations": {"type": "array", "description": "A set of URLs to access the image "
                      "file kept in external store", "items": {"type": "object"}},
    }
    return {"name": "image", "properties": props,
            "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def images(conf: Any) -> dict[str, Any]:
    return {"name": "images", "properties": {
        "images": {"type": "array", "items": image(conf)},
        "schema": {"type": "string"}, "first": {"type": "string"},
        "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]}


def member(conf: Any) -> dict[str, Any]:
    return {"name": "member", "properties": {
        "created_at": {"type": "string", "description": "Date and time of image member "
                       "creation"},
        "image_id": {**_ID, "description": "An identifier for the image"},
        "member_id": {"type": "string", "description": "An identifier for the image member "
                      "(tenantId)"},
        "schema": {"type": "string", "readOnly": True},
        "status": {"type": "string", "enum": ["pending", "accepted", "rejected"],
                   "description": "The status of this image member"},
        "updated_at": {"type": "string", "description": "Date and time of last "
                       "modification of image member"}}}


def members(conf: Any) -> dict[str, Any]:
    return {"name": "members", "properties": {
        "members": {"type": "array", "items": member(conf)},
        "schema": {"type": "string"}},
        "links": [{"rel": "describedby", "href": "{schema}"}]}


SCHEMAS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "image": image, "images": images, "member": member, "members": members}

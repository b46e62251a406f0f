"""Request body schemas of the identity API."""
from __future__ import annotations

from typing import Any

from common.wsgi import validation as v

_NAME64 = {"type": "string", "minLength": 1, "maxLength": 64}
_NAME255 = {"type": "string", "minLength": 1, "maxLength": 255}
_TAGS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255,
                                    "pattern": "^[^,/]*$"}, "maxItems": 80,
         "uniqueItems": True}


def _obj(props: dict[str, Any], required: list[str] | None = None,
         extra: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "additionalProperties": extra}
    if required:
        schema["required"] = required
    return schema


_DOMAIN = {"name": _NAME64, "description": v.DESCRIPTION, "enabled": v.BOOLEAN,
           "tags": _TAGS, "options": {"type": "object"}, "explicit_domain_id": v.ID}
DOMAIN_CREATE = _obj(_DOMAIN, ["name"])
DOMAIN_UPDATE = _obj(_DOMAIN)
DOMAIN_UPDATE["minProperties"] = 1

_PROJECT = {"name": _NAME64, "description": v.DESCRIPTION, "enabled": v.BOOLEAN,
            "domain_id": v.NULLABLE_ID, "parent_id": v.NULLABLE_ID,
            "is_domain": v.BOOLEAN, "tags": _TAGS, "options": {"type": "object"}}
PROJECT_CREATE = _obj(_PROJECT, ["name"])
PROJECT_UPDATE = _obj({k: p for k, p in _PROJECT.items()})
PROJECT_UPDATE["minProperties"] = 1

_USER = {"name": _NAME255, "enabled": v.BOOLEAN, "domain_id": v.ID,
         "default_project_id": v.NULLABLE_ID, "password": {"type": ["string", "null"]},
         "description": v.DESCRIPTION, "email": {"type": ["string", "null"]},
         "options": {"type": "object"}, "federated": {"type": "array"}}
USER_CREATE = _obj(_USER, ["name"])
USER_UPDATE = _obj(_USER)
USER_UPDATE["minProperties"] = 1
PASSWORD_CHANGE = _obj({"original_password": {"type": "string"},
                        "password": {"type": "string", "minLength": 1}},
                       ["original_password", "password"])

_GROUP = {"name": _NAME64, "description": v.DESCRIPTION, "domain_id": v.ID}
GROUP_CREATE = _obj(_GROUP, ["name"])
GROUP_UPDATE = _obj(_GROUP)
GROUP_UPDATE["minProperties"] = 1

_ROLE = {"name": _NAME255, "description": v.DESCRIPTION, "domain_id": v.NULLABLE_ID,
         "options": _obj({"immutable": {"type": ["boolean", "null"]}}, extra=False)}
ROLE_CREATE = _obj(_ROLE, ["name"])
ROLE_UPDATE = _obj(_ROLE)
ROLE_UPDATE["minProperties"] = 1

_REGION = {"id": _NAME255, "description": v.DESCRIPTION,
           "parent_region_id": {"type": ["string", "null"]}}
REGION_CREATE = _obj(_REGION)
REGION_UPDATE = _obj({k: p for k, p in _REGION.items() if k != "id"})

_SERVICE = {"type": _NAME255, "name": {"type": "string"}, "enabled": v.BOOLEAN,
            "description": v.DESCRIPTION}
SERVICE_CREATE = _obj(_SERVICE, ["type"])
SERVICE_UPDATE = _obj(_SERVICE)
SERVICE_UPDATE["minProperties"] = 1

_INTERFACE = {"type": "string", "enum": ["public", "internal", "admin"]}
_ENDPOINT = {"interface": _INTERFACE, "url": {"type": "string", "minLength": 1,
                                              "maxLength": 1024},
             "service_id": v.ID, "region_id": {"type": ["string", "null"]},
             "region": {"type": ["string", "null"]}, "enabled": v.BOOLEAN}
ENDPOINT_CREATE = _obj(_ENDPOINT, ["interface", "url", "service_id"])
ENDPOINT_UPDATE = _obj(_ENDPOINT)
ENDPOINT_UPDATE["minProperties"] = 1

_CREDENTIAL = {"type": {"type": "string", "minLength": 1, "maxLength": 255},
               "blob": {"type": "string", "minLength": 1}, "user_id": v.ID,
               "project_id": v.NULLABLE_ID}
CREDENTIAL_CREATE = _obj(_CREDENTIAL, ["type", "blob", "user_id"])
CREDENTIAL_UPDATE = _obj(_CREDENTIAL)
CREDENTIAL_UPDATE["minProperties"] = 1

_ROLE_REF = _obj({"id": v.ID, "name": _NAME255})
APP_CRED_CREATE = _obj({
    "name": _NAME255, "description": v.DESCRIPTION, "secret": {"type": ["string", "null"]},
    "expires_at": {"type": ["string", "null"]}, "roles": {"type": "array", "items": _ROLE_REF},
    "unrestricted": {"type": ["boolean", "null"]},
    "access_rules": {"type": "array", "items": _obj({
        "path": {"type": "string"}, "method": {"type": "string"},
        "service": {"type": "string"}, "id": v.ID})}}, ["name"], extra=False)

_STR = {"type": "string"}
_DOMAIN_REF = _obj({"id": _STR, "name": _STR})
_USER_REF = _obj({"id": _STR, "name": _STR, "domain": _DOMAIN_REF})
_IDENTITY = _obj({
    "methods": {"type": "array", "items": _STR, "minItems": 1},
    "password": _obj({"user": _obj({"id": _STR, "name": _STR, "password": _STR,
                                    "domain": _DOMAIN_REF})}, ["user"]),
    "token": _obj({"id": _STR}, ["id"]),
    "application_credential": _obj({"id": _STR, "name": _STR, "secret": _STR,
                                    "user": _USER_REF})}, ["methods"])
_SCOPE = _obj({"project": _obj({"id": _STR, "name": _STR, "domain": _DOMAIN_REF}),
               "domain": _DOMAIN_REF,
               "system": _obj({"all": {"type": "boolean"}}, ["all"]),
               "OS-TRUST:trust": {"type": "object"}})
AUTH = _obj({"identity": _IDENTITY, "scope": {"anyOf": [_SCOPE, {"type": "string"}]}},
            ["identity"])

"""JSON-schema validation of request bodies, with OpenStack-style messages."""
from __future__ import annotations

from typing import Any

import jsonschema

from common import exception

_CACHE: dict[int, jsonschema.protocols.Validator] = {}


def _validator(schema: dict[str, Any]) -> Any:
    key = id(schema)
    found = _CACHE.get(key)
    if found is None:
        found = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        _CACHE[key] = found
    return found


def validate(body: Any, schema: dict[str, Any]) -> Any:
    """Validate ``body`` against ``schema`` and return it.

    :raises: ValidationError naming the first offending field.
    """
    errors = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if not errors:
        return body
    err = errors[0]
    field = ".".join(str(p) for p in err.path) or "request body"
    if err.validator == "required" or err.validator == "additionalProperties":
        detail = err.message
    else:
        detail = err.message
    raise exception.ValidationError(field=field, detail=detail)


# Reusable fragments.
NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"[\S]+"}
ID = {"type": "string", "minLength": 1, "maxLength": 64}
NULLABLE_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
DESCRIPTION = {"type": ["string", "null"]}
BOOLEAN = {"type": "boolean"}

"""Microversion negotiation, as Cinder does it.

A request names its version with ``OpenStack-API-Version: volume 3.Y`` (Cinder
has no legacy header); no header means 3.0, ``latest`` the maximum. Every
response under /v3 echoes the version, with ``Vary: OpenStack-API-Version``.

MAX_VERSION is 3.60. What that claims for the resources served here:

- volumes: ``group_id`` (3.13, always null: no groups), ``provider_id`` (3.21,
  admins), ``service_uuid``/``shared_targets`` (3.48); volume summary (3.12) with
  ``metadata`` (3.36); ``like`` filters ``name~`` (3.34); ``with_count`` (3.45);
  extend of in-use volumes (3.42); create from a backup (3.47, ``backup_id``);
  ``created_at``/``updated_at`` comparison filters (3.60). Nothing of 3.61+
  (``cluster_name``, ``volume_type_id``, ``encryption_key_id``, ``consumes_quota``,
  null ``shared_targets``) is ever shown, as Tempest's per-version schemas demand.
- limits: a ``project_id`` query parameter for admins (3.39);
- services: ``cluster`` (3.7), ``backend_state`` (3.49) in the service list;
- attachments (3.27, 3.44 complete, 3.54 mode), snapshots (3.41 user_id), backups
  (3.43 metadata, 3.51 zone, 3.56 user_id): B3's controllers.

Not implemented although <= 3.60 (answered 404 like an unknown path): messages
(3.3), clusters (3.7), groups and group types/snapshots (3.11-3.38), manageable
listings (3.8), workers cleanup (3.24), resource_filters (3.33), log levels
(3.32), volume revert to snapshot (3.40), transfers.
"""
from __future__ import annotations

import re
from typing import Any

from blockstorage import exception

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 60)
SERVICE_TYPE = "volume"
HEADER = "OpenStack-API-Version"
ENV_KEY = "stratus.blockstorage.api_version"
_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


def to_string(version: tuple[int, int]) -> str:
    return "%d.%d" % version


def requested(headers: Any) -> str | None:
    """The ``volume`` entry of ``OpenStack-API-Version`` (``volume 3.27, compute
    2.1``), or None when the request names none."""
    value = headers.get(HEADER)
    if value is None:
        return None
    for part in value.split(","):
        words = part.strip().split()
        if words and words[0].lower() == SERVICE_TYPE:
            return words[1] if len(words) == 2 else ""
    return None


def negotiate(headers: Any) -> tuple[int, int]:
    """The version to serve a request with.

    :raises: InvalidAPIVersionString (400) for a malformed version,
        InvalidGlobalAPIVersion (406) for one outside [MIN, MAX].
    """
    raw = requested(headers)
    if raw is None:
        return MIN_VERSION
    if raw.lower() == "latest":
        return MAX_VERSION
    match = _VERSION.match(raw)
    if match is None:
        raise exception.InvalidAPIVersionString(version=raw)
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise exception.InvalidGlobalAPIVersion(req_ver=raw, min_ver=to_string(MIN_VERSION),
                                                max_ver=to_string(MAX_VERSION))
    return version


def response_headers(version: tuple[int, int]) -> list[tuple[str, str]]:
    return [(HEADER, "%s %s" % (SERVICE_TYPE, to_string(version))), ("Vary", HEADER)]


def of(req: Any) -> tuple[int, int]:
    """The version negotiated for ``req`` (the minimum outside /v3)."""
    found = req.environ.get(ENV_KEY)
    return found if found is not None else MIN_VERSION


def at_least(req: Any, minor: int) -> bool:
    """Whether ``req`` was negotiated at 3.``minor`` or later."""
    return of(req) >= (3, minor)


def require(req: Any, minor: int) -> None:
    """Refuse a method that exists from 3.``minor`` on (Cinder answers 404).

    :raises: VersionNotFoundForAPIMethod.
    """
    if not at_least(req, minor):
        raise exception.VersionNotFoundForAPIMethod(version=to_string(of(req)))

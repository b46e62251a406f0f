"""Microversion negotiation, as Nova does it.

A request names its version with ``OpenStack-API-Version: compute X.Y`` or the
legacy ``X-OpenStack-Nova-API-Version: X.Y`` (the first wins); no header means
the minimum, ``latest`` the maximum. Every response under /v2.1 echoes the
version in both headers, with ``Vary`` naming them.

MAX_VERSION may only be raised together with the behaviour of each new
version for every resource the API serves (response schemas differ per
microversion and Tempest checks them strictly).
"""
from __future__ import annotations

import re
from typing import Any

from compute import exception

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 47)
SERVICE_TYPE = "compute"
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
VARY = "%s, %s" % (HEADER, LEGACY_HEADER)
ENV_KEY = "stratus.compute.api_version"
_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


def to_string(version: tuple[int, int]) -> str:
    return "%d.%d" % version


def _from_new_header(value: str) -> str | None:
    """The compute entry of ``OpenStack-API-Version`` (``compute 2.1, volume 3.0``)."""
    for part in value.split(","):
        words = part.strip().split()
        if len(words) == 2 and words[0].lower() == SERVICE_TYPE:
            return words[1]
        if len(words) == 1 and words[0].lower() == SERVICE_TYPE:
            return ""
    return None


def requested(headers: Any) -> str | None:
    """The version string the request asks for, or None when it names none."""
    new = headers.get(HEADER)
    if new is not None:
        found = _from_new_header(new)
        if found is not None:
            return found
    legacy = (headers.get(LEGACY_HEADER) or "").strip()
    return legacy or None


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
    text = to_string(version)
    return [(HEADER, "%s %s" % (SERVICE_TYPE, text)), (LEGACY_HEADER, text), ("Vary", VARY)]


def of(req: Any) -> tuple[int, int]:
    """The version negotiated for ``req`` (the minimum outside /v2.1)."""
    found = req.environ.get(ENV_KEY)
    return found if found is not None else MIN_VERSION

"""API errors as sentences a user can act on (never a traceback)."""
from __future__ import annotations

import html
import json
import re
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc


def _from_body(resp: Any) -> str | None:
    """The message in an OpenStack error body (Nova, Neutron, Cinder, Glance, Keystone)."""
    try:
        body = resp.json()
    except (ValueError, AttributeError, json.JSONDecodeError):
        text = getattr(resp, "text", "") or ""
        # Some APIs (the object store) answer errors as a line of HTML, some
        # (the image service) as text under a "415 Unsupported Media Type" line.
        text = re.sub(r"<[^>]*>", "\n", text).strip()
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and re.match(r"\d{3} [A-Za-z]", lines[0]):
            lines = lines[1:]
        text = " ".join(" ".join(lines).split())
        return html.unescape(text)[:300] or None
    if not isinstance(body, dict):
        return None
    for key in ("NeutronError", "error"):
        inner = body.get(key)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    for inner in body.values():
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    if body.get("message"):
        return str(body["message"])
    return None


def message(err: BaseException) -> str:
    """What to show the user for ``err`` raised by openstacksdk or keystoneauth."""
    if isinstance(err, sdk_exc.HttpException):
        resp = getattr(err, "response", None)
        found = _from_body(resp) if resp is not None else None
        text = found or err.details or err.message or "request failed"
        code = err.status_code
        return "%s (HTTP %s)" % (text.strip(), code) if code else text.strip()
    if isinstance(err, (ks_exc.ConnectFailure, ks_exc.ConnectTimeout)):
        return "A service of the cloud cannot be reached; try again shortly."
    if isinstance(err, ks_exc.EndpointNotFound):
        return "This cloud has no such service in its catalog."
    if isinstance(err, (sdk_exc.SDKException, ks_exc.ClientException)):
        return str(err) or err.__class__.__name__
    return "Unexpected error: %s" % err.__class__.__name__


def status(err: BaseException) -> int | None:
    return getattr(err, "status_code", None) if isinstance(err, sdk_exc.HttpException) else None


API_ERRORS: tuple[type[BaseException], ...] = (sdk_exc.SDKException, ks_exc.ClientException)

"""Compute's REST clients for its neighbours: image (Glance v2, ``[glance]``),
network (Neutron v2.0, ``[neutron]``) and block storage (Cinder v3, ``[cinder]``).

Each group holds keystoneauth options (credentials of the compute service,
TLS, region/interface/endpoint_override, ``service_type`` to override the
catalog type); :func:`register_opts` registers all three.

The helpers below are shared by the client modules; they are defined before
any client module is imported, so the modules may import this package.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

#: keystoneauth failures that mean "the neighbour cannot be reached": no endpoint
#: in the catalog, DNS/connection/TLS failures, timeouts.
UNREACHABLE = (ks_exc.ConnectionError, ks_exc.EndpointNotFound, ks_exc.DiscoveryFailure)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register ``[glance]``, ``[neutron]`` and ``[cinder]``.

    :param conf: the compute service's configuration object.
    """
    from compute.clients import image
    from compute.clients import network
    from compute.clients import volume
    image.register_opts(conf)
    network.register_opts(conf)
    volume.register_opts(conf)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options :func:`register_opts` registers, for oslo-config-generator."""
    from compute.clients import image
    from compute.clients import network
    from compute.clients import volume
    return [*image.list_opts(), *network.list_opts(), *volume.list_opts()]


def request_id(ctxt: Any) -> str | None:
    """The request id to forward (``X-OpenStack-Request-ID``) for ``ctxt``."""
    if ctxt is None:
        return None
    return getattr(ctxt, "global_id", None) or getattr(ctxt, "request_id", None)


def adapter(conf: cfg.ConfigOpts, ctxt: Any, group: str, default_type: str,
            unavailable: Callable[..., Exception], admin: bool = False) -> Any:
    """An adapter on the neighbour's endpoint, as the user of ``ctxt`` (with the
    service token) or, with ``admin`` or no ``ctxt``, as the compute service itself
    (forwarding the request id); ``unavailable(reason=...)`` when unreachable."""
    from common.clients import base
    kind = service_type(conf, group, default_type)
    try:
        if admin or ctxt is None:
            return base.adapter(conf, group, kind, raise_exc=False,
                                global_request_id=request_id(ctxt))
        return base.adapter(conf, group, kind, ctxt=ctxt, raise_exc=False)
    except UNREACHABLE as err:
        raise unavailable(reason=str(err)) from err


def service_type(conf: cfg.ConfigOpts, group: str, default: str) -> str:
    """The catalog type to look up: the group's ``service_type`` when set."""
    return str(conf[group].service_type or default)


def error_message(resp: Any) -> str:
    """The human message of an error response in any OpenStack format.

    Handles Nova/Cinder (``{"itemNotFound": {"message": ...}}``), Neutron
    (``{"NeutronError": {"message": ...}}``), Keystone (``{"error": {...}}``)
    and Glance's plain-text ``"<code> <title>\\n\\n<message>"`` bodies.
    """
    text = resp.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
        if body.get("message"):
            return str(body["message"])
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith(str(resp.status_code)):
        return " ".join(lines[1:])
    if lines:
        return " ".join(lines)[:500]
    return "HTTP %s" % resp.status_code


def error_type(resp: Any) -> str:
    """The ``type`` of a Neutron error body (``IpAddressInUse`` …), or ``""``."""
    try:
        body = json.loads(resp.text or "")
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("NeutronError"), dict):
        return str(body["NeutronError"].get("type") or "")
    return ""


class RecordCache:
    """Records a neighbour answered (an image, a network), kept ``max_age`` seconds
    per caller (the context's token and project) and id, so that a burst of boots
    asks once. Callers get copies (one level of lists and dicts copied too).
    """

    def __init__(self, max_age: float, size: int = 256) -> None:
        self.max_age = max_age
        self.size = size
        self._items: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(ctxt: Any, record_id: str) -> tuple[str, str, str]:
        return (str(getattr(ctxt, "auth_token", None) or ""),
                str(getattr(ctxt, "project_id", None) or ""), record_id)

    def get(self, ctxt: Any, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._items.get(self.key(ctxt, record_id))
        if hit is None or time.monotonic() - hit[0] >= self.max_age:
            return None
        return _copy(hit[1])

    def put(self, ctxt: Any, record_id: str, record: dict[str, Any]) -> None:
        if self.max_age <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._items) >= self.size:
                for old in [k for k, (t, _) in self._items.items()
                            if now - t >= self.max_age] or list(self._items):
                    del self._items[old]
            self._items[self.key(ctxt, record_id)] = (now, _copy(record))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _copy(record: dict[str, Any]) -> dict[str, Any]:
    return {key: (list(value) if isinstance(value, list)
                  else dict(value) if isinstance(value, dict) else value)
            for key, value in record.items()}

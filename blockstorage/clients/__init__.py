"""Block storage's REST clients of its neighbours: image (Glance v2, ``[glance]``)
and object store (Swift v1, ``[swift]``).

Both authenticate from ``[service_user]`` (the service's own credentials) and,
given a user's context, act as that user with the service token beside the
user's token (``common.clients.base``). The helpers here are shared by the two
client modules.
"""
from __future__ import annotations

import json
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from blockstorage.conf import clients as clients_conf
from common.clients import base

#: keystoneauth failures meaning "the neighbour cannot be reached": no endpoint
#: in the catalog, DNS/connection/TLS failures, timeouts.
UNREACHABLE = (ks_exc.ConnectionError, ks_exc.EndpointNotFound, ks_exc.DiscoveryFailure)
DEFAULT_INTERFACES = ["internal", "public"]


def request_id(ctxt: Any) -> str | None:
    """The request id to forward (``X-OpenStack-Request-ID``) for ``ctxt``."""
    if ctxt is None:
        return None
    return getattr(ctxt, "global_id", None) or getattr(ctxt, "request_id", None)


def _interfaces(group: Any) -> list[str] | str | None:
    if group.valid_interfaces:
        return list(group.valid_interfaces)
    if getattr(group, "interface", None):
        return str(group.interface)
    return None


def adapter(conf: cfg.ConfigOpts, ctxt: Any, group: str, default_type: str,
            **kwargs: Any) -> ks_adapter.Adapter:
    """An Adapter on the neighbour whose endpoint ``[group]`` selects.

    Credentials, TLS and the connection pool are ``[service_user]``'s; the
    endpoint options (service_type, region_name, valid_interfaces,
    endpoint_override) are ``[group]``'s, falling back to ``[service_user]``'s
    region and interfaces. With a user's ``ctxt`` the calls carry its token
    and the service token; a context without a token (a daemon's own) or
    ``None`` acts as the service. Errors are not raised by status
    (``raise_exc=False``): the client modules map them.

    :param conf: the configuration (``blockstorage.conf.register_opts`` done).
    :param ctxt: the RequestContext to act for, or None.
    :param group: ``glance`` or ``swift``.
    :param default_type: the catalog type when ``[group] service_type`` is unset.
    :param kwargs: further Adapter arguments (they win over the options).
    :returns: a keystoneauth Adapter.
    :raises: keystoneauth1.exceptions.MissingRequiredOptions on incomplete
        ``[service_user]`` credentials; TypeError on contradictory interfaces.
    """
    service = conf[clients_conf.SERVICE_USER_GROUP]
    own = conf[group]
    session = base.session_for(conf, clients_conf.SERVICE_USER_GROUP)
    kwargs.setdefault("auth", base.context_auth(conf, ctxt, clients_conf.SERVICE_USER_GROUP))
    kwargs.setdefault("interface",
                      _interfaces(own) or _interfaces(service) or list(DEFAULT_INTERFACES))
    kwargs.setdefault("region_name", own.region_name or service.region_name)
    kwargs.setdefault("service_type", own.service_type or default_type)
    kwargs.setdefault("raise_exc", False)
    kwargs.setdefault("client_name", base.USER_AGENT)
    kwargs.setdefault("global_request_id", request_id(ctxt))
    return ks_loading.load_adapter_from_conf_options(conf, group, session=session, **kwargs)


def error_message(resp: Any) -> str:
    """The human message of an error response, whatever the service's format:
    ``{"<kind>": {"message": ...}}``, ``{"message": ...}``, or plain text
    (Glance's and Swift's ``<html><h1>...`` or ``"<code> <title>\\n\\n<message>"``).
    """
    text = (resp.text or "").strip()
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
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith(str(resp.status_code)):
        lines = lines[1:]
    return " ".join(lines)[:500] or "HTTP %s" % resp.status_code

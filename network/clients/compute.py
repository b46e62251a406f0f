"""The compute API, as the network service calls it: server external events.

Credentials come from ``[nova]`` (keystoneauth options, as Neutron names the group),
the endpoint from the catalog (service type ``compute``).
"""
from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_log import log as logging

from common.clients import base

LOG = logging.getLogger(__name__)
GROUP = "nova"
# The network events (network-changed, network-vif-plugged/-unplugged/-deleted) are
# all accepted at 2.1, the version every compute API serves; ask for no more.
MICROVERSION = "2.1"


class ComputeUnavailable(Exception):
    """The cloud has no compute endpoint (compute is not deployed) or it is unreachable."""


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register_opts(conf, GROUP)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return base.list_opts(GROUP)


def send_events(conf: cfg.ConfigOpts, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST ``events`` to ``/os-server-external-events`` as the network service.

    :returns: the events with the per-event ``code`` and ``status`` compute answered
        (a 404 for every event, i.e. no such servers, is returned the same way).
    :raises: ComputeUnavailable when the catalog has no compute endpoint or it cannot be
        reached; keystoneauth1 HTTP errors for other failures.
    """
    try:
        api = base.adapter(conf, GROUP, "compute", raise_exc=False)
        resp = api.post("/os-server-external-events", json={"events": events},
                        microversion=MICROVERSION)
    except (ks_exc.EndpointNotFound, ks_exc.ConnectFailure, ks_exc.DiscoveryFailure) as err:
        raise ComputeUnavailable(str(err)) from err
    if resp.status_code == 404:
        # Every server unknown: compute answers 404 with no per-event detail.
        return [dict(e, code=404, status="failed") for e in events]
    if resp.status_code >= 400:
        raise ks_exc.from_response(resp, "POST", "/os-server-external-events")
    return list(resp.json().get("events", []))

"""Fixtures for the network API tests.

Every test module gets one in-process network server of its own
(``tests.fixtures.network.NetworkService``: the plugin over an SQLite file, the
RPC endpoint over the in-memory transport, and the API's paste pipeline with a
fake auth_token that trusts ``X-Test-*`` headers). A module may set
``SERVICE_CONF = {"group": {"option": value}}`` to configure its server.

Tests isolate themselves by working in fresh project ids (``project()``).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Iterator

import pytest
import webtest

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
for _path in (_REPO, _HERE):  # plain ``pytest`` does not put these on sys.path
    if _path not in sys.path:
        sys.path.insert(0, _path)

from network_api_helpers import Api  # noqa: E402


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.fixtures import network as fx

    groups = getattr(request.module, "SERVICE_CONF", {})
    conf = fx.make_conf(str(tmp_path_factory.mktemp("network")), **groups)
    svc = fx.NetworkService(conf)
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module")
def app(service: Any) -> webtest.TestApp:
    return webtest.TestApp(service.pipeline)


@pytest.fixture(scope="module")
def api(app: webtest.TestApp) -> Api:
    return Api(app)


@pytest.fixture(scope="module")
def public(api: Api) -> dict[str, Any]:
    """An external flat network ``public`` with a /24 subnet (made by the admin)."""
    net = api.create("networks", api.ADMIN, {"name": "public", "router:external": True,
                                             "provider:network_type": "flat",
                                             "provider:physical_network": "public"},
                     roles=api.ADMIN_ROLES)
    sub = api.create("subnets", api.ADMIN, {"network_id": net["id"], "ip_version": 4,
                                            "cidr": "172.24.4.0/24"}, roles=api.ADMIN_ROLES)
    return {"network": net, "subnet": sub}

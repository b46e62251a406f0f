"""Fixtures for the compute API tests.

Every test module gets one in-process compute API of its own
(``tests.fixtures.compute.ComputeService``: its database in an SQLite file and
the API's paste pipeline with a fake auth_token that trusts ``X-Test-*``
headers). A module may set ``SERVICE_CONF = {"group": {"option": value}}``.
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

from compute_api_helpers import Api  # noqa: E402


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.fixtures import compute as fx

    groups = getattr(request.module, "SERVICE_CONF", {})
    svc = fx.ComputeService(fx.make_conf(str(tmp_path_factory.mktemp("compute")), **groups))
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module")
def api(service: Any) -> Api:
    return Api(webtest.TestApp(service.pipeline))

"""Fixtures for the image API tests.

Every test module gets one in-process image service of its own
(``tests.fixtures.image.ImageService``: the registry's RPC server on a thread
over the in-memory transport, and the API's paste pipeline with a fake
auth_token that trusts ``X-Test-*`` headers). Only one may run per process at a
time, so the fixture is module-scoped and stopped at the end of the module. A
module may set ``SERVICE_CONF = {"group": {"option": value}}`` to configure its
service (the quota tests do).

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

from image_api_helpers import DATA_PATH, Api  # noqa: E402


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not DATA_PATH:
        # image.api.app imports the data controller; without it nothing can run.
        pytest.importorskip("image.api.controllers.image_data",
                            reason="the image data path is not written yet")
    from tests.fixtures import image as fx

    groups = getattr(request.module, "SERVICE_CONF", {})
    conf = fx.make_conf(str(tmp_path_factory.mktemp("image")), **groups)
    svc = fx.ImageService(conf)
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


@pytest.fixture
def needs_data() -> None:
    """Skips a test that needs image data when the data path does not exist."""
    if not DATA_PATH:
        pytest.skip("the image data path (image/api/controllers/image_data.py) is not "
                    "written yet")

"""The API without its registry: a quick error (not a 500, not a hang) while the
registry is down, normal service once it is back; both daemons stop cleanly on
SIGTERM. Its own cloud: these tests kill daemons."""
from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest

from tests.functional.conftest import IdentityCloud, ImageCloud


@pytest.fixture(scope="module")
def cloud(identity_cloud: IdentityCloud, tmp_path_factory: Any) -> Iterator[ImageCloud]:
    image = ImageCloud(str(tmp_path_factory.mktemp("image-outage")), identity_cloud,
                       registry_timeout=5)
    yield image
    image.stop()


def _request(cloud: ImageCloud, method: str, path: str, token: str,
             body: Any = None, timeout: float = 60.0) -> tuple[int, bytes, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(cloud.url + path, data=data, method=method,
                                 headers={"X-Auth-Token": token,
                                          "Content-Type": "application/json"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), time.monotonic() - start
    except urllib.error.HTTPError as err:
        return err.code, err.read(), time.monotonic() - start


def test_registry_down_then_back(cloud: ImageCloud) -> None:
    token = cloud.token()
    status, _, _ = _request(cloud, "POST", "/v2/images", token,
                            {"name": "before", "disk_format": "raw", "container_format": "bare"})
    assert status == 201

    assert cloud.registry is not None
    os.kill(cloud.registry.proc.pid, signal.SIGKILL)
    cloud.registry.proc.wait(timeout=10)
    try:
        answers = [_request(cloud, method, path, token, body) for method, path, body in (
            ("GET", "/v2/images", None),
            ("POST", "/v2/images", {"name": "during", "disk_format": "raw",
                                    "container_format": "bare"}))]
        # The API itself stays up and says so.
        with urllib.request.urlopen(cloud.url + "/healthcheck", timeout=10) as resp:
            assert resp.status == 200
    finally:
        cloud.start_registry()
        cloud.wait_ready()
    status, text, _ = _request(cloud, "GET", "/v2/images", token)
    assert status == 200
    names = [i["name"] for i in json.loads(text)["images"]]
    # A create that failed while the registry was down did not happen later.
    assert "before" in names and "during" not in names
    for status, text, elapsed in answers:
        # Not a 500 (nothing is wrong with the request or the API), and not a hang.
        assert status in (502, 503, 504), (status, text)
        assert elapsed < cloud.registry_timeout + 10, elapsed


def test_sigterm_stops_both_daemons_cleanly(cloud: ImageCloud) -> None:
    assert cloud.api is not None and cloud.registry is not None
    for daemon in (cloud.api, cloud.registry):
        os.kill(daemon.proc.pid, signal.SIGTERM)
        assert daemon.proc.wait(timeout=30) == 0, daemon.log

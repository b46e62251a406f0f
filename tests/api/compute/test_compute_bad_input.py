"""Bad flavor-create bodies: always a 400 in Nova's format, never a 500."""
from __future__ import annotations

from typing import Any

import pytest
from compute_api_helpers import Api

GOOD = {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}


def _with(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(GOOD)
    for key, value in changes.items():
        key = key.replace("__", ":").replace("_dash_", "-")
        if value is None and key in body:
            del body[key]
        else:
            body[key] = value
    return {"flavor": body}


@pytest.mark.parametrize("body", [
    {}, {"flavor": None}, {"flavor": []}, {"flavors": GOOD}, [GOOD], "flavor",
    _with(name=None), _with(ram=None), _with(vcpus=None), _with(disk=None),
    _with(name=""), _with(name=" lead"), _with(name="trail "), _with(name="a" * 256),
    _with(name=5), _with(ram=0), _with(ram=-1), _with(ram="x"), _with(ram=""),
    _with(ram=2 ** 31), _with(ram=1.5), _with(ram="0"), _with(vcpus=0), _with(disk=-1),
    _with(disk=True), _with(swap=-1), _with(swap="a"),
    _with(OS_dash_FLV_dash_EXT_dash_DATA__ephemeral=-1),
    _with(rxtx_factor=0), _with(rxtx_factor=-1.0), _with(rxtx_factor="abc"),
    _with(rxtx_factor=1e39), _with(id=""), _with(id=" x"), _with(id="a/b"),
    _with(id="x" * 256), _with(id=True), _with(id=[1]),
    _with(os_dash_flavor_dash_access__is_public="maybe"),
    _with(os_dash_flavor_dash_access__is_public=1), _with(extra="field"),
])
def test_bad_flavor_bodies(api: Api, body: Any) -> None:
    api.admin("POST", "/v2.1/flavors", json_body=body, status=400)


@pytest.mark.parametrize("raw", [b"", b"{", b"null", b"\xff\xfe",
                                 b'{"flavor": {"name": "\\ud800"}}'])
def test_malformed_json(api: Api, raw: bytes) -> None:
    api.admin("POST", "/v2.1/flavors", body=raw, headers={"Content-Type": "application/json"},
              status=400)


def test_bad_list_queries(api: Api) -> None:
    for query in ("minRam=x", "minDisk=1.5", "is_public=maybe", "limit=x", "limit=-1",
                  "marker=no-such-flavor", "sort_key=bogus", "sort_dir=up"):
        api.admin("GET", "/v2.1/flavors?" + query, status=400)
        api.admin("GET", "/v2.1/flavors/detail?" + query, status=400)


def test_non_json_content_type(api: Api) -> None:
    resp = api.admin("POST", "/v2.1/flavors", body=b"<flavor/>",
                     headers={"Content-Type": "application/xml"})
    assert resp.status_int in (400, 415)


def test_oversize_body(api: Api) -> None:
    body = b'{"flavor": {"name": "' + b"x" * 200000 + b'"}}'
    resp = api.admin("POST", "/v2.1/flavors", body=body,
                     headers={"Content-Type": "application/json"})
    assert resp.status_int in (400, 413)

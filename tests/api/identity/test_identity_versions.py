"""Version discovery, the healthcheck, and headers every response carries."""
from __future__ import annotations

import re

import pytest
from identity_api_helpers import Api, error_of

MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _check_v3_entry(entry: dict[str, object]) -> None:
    assert re.match(r"^v3\.\d+$", str(entry["id"]))
    assert entry["status"] == "stable"
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", str(entry["updated"]))
    assert entry["media-types"] == [{"base": "application/json", "type": MEDIA_TYPE}]
    links = entry["links"]
    assert isinstance(links, list)
    assert {"rel": "self", "href": "http://localhost/v3/"} in links


def test_root_lists_versions(api: Api) -> None:
    resp = api.app.get("/", status=300)
    assert resp.content_type == "application/json"
    values = resp.json["versions"]["values"]
    assert len(values) == 1
    _check_v3_entry(values[0])


def test_v3_document(api: Api) -> None:
    for path in ("/v3", "/v3/"):
        resp = api.app.get(path, status=200)
        _check_v3_entry(resp.json["version"])


def test_discovery_needs_no_token(api: Api) -> None:
    api.app.get("/", status=300)
    api.app.get("/v3", status=200)


def test_healthcheck(api: Api) -> None:
    resp = api.app.get("/healthcheck", status=200)
    assert resp.body == b"OK"
    assert resp.content_type == "text/plain"
    assert REQUEST_ID.match(resp.headers["X-OpenStack-Request-ID"])
    head = api.app.head("/healthcheck", status=200)
    assert head.body == b""


def test_healthcheck_ignores_a_bad_token(api: Api) -> None:
    api.app.get("/healthcheck", headers={"X-Auth-Token": "garbage"}, status=200)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/", 300), ("GET", "/v3", 200), ("GET", "/healthcheck", 200),
    ("GET", "/v3/users", 200), ("GET", "/v3/users", 401), ("GET", "/v3/nowhere", 404),
    ("POST", "/v3/auth/tokens", 400), ("GET", "/v3/projects/nope", 404),
    ("PUT", "/v3/users", 405),
])
def test_every_response_has_a_request_id(api: Api, method: str, path: str,
                                         status: int) -> None:
    headers = {"X-Auth-Token": api.admin_token} if status != 401 else {}
    resp = api.app.request(path, method=method, headers=headers, status=status)
    assert REQUEST_ID.match(resp.headers["X-OpenStack-Request-ID"]), resp.headers
    if status >= 400:
        error_of(resp, status)


def test_request_ids_are_unique(api: Api) -> None:
    ids = {api.app.get("/v3").headers["X-OpenStack-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


def test_inbound_request_id_is_not_echoed_back(api: Api) -> None:
    inbound = "req-11111111-2222-3333-4444-555555555555"
    resp = api.app.get("/v3", headers={"X-OpenStack-Request-ID": inbound})
    assert REQUEST_ID.match(resp.headers["X-OpenStack-Request-ID"])
    assert resp.headers["X-OpenStack-Request-ID"] != inbound

"""Version discovery and microversion negotiation."""
from __future__ import annotations

import pytest
from compute_api_helpers import Api, message, project

from compute.api import microversion

MAX = microversion.to_string(microversion.MAX_VERSION)
ABOVE = "2.%d" % (microversion.MAX_VERSION[1] + 1)


def test_root_lists_v21(api: Api) -> None:
    resp = api.call("GET", "/", status=200)
    (entry,) = resp.json["versions"]
    assert entry["id"] == "v2.1" and entry["status"] == "CURRENT"
    assert entry["version"] == MAX and entry["min_version"] == "2.1"
    assert entry["links"] == [{"rel": "self", "href": "http://localhost/v2.1/"}]
    assert "OpenStack-API-Version" not in resp.headers


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
def test_v21_document_is_public(api: Api, path: str) -> None:
    body = api.call("GET", path, status=200).json["version"]
    assert body["id"] == "v2.1" and body["version"] == MAX and body["min_version"] == "2.1"
    assert {"rel": "self", "href": "http://localhost/v2.1/"} in body["links"]
    assert body["media-types"][0]["type"].startswith("application/vnd.openstack.compute+json")


def test_resources_need_a_token(api: Api) -> None:
    api.call("GET", "/v2.1/flavors", status=401)


@pytest.mark.parametrize("headers,echoed", [
    ({}, "2.1"), ({"OpenStack-API-Version": "compute 2.1"}, "2.1"),
    ({"OpenStack-API-Version": "compute latest"}, MAX),
    ({"X-OpenStack-Nova-API-Version": "2.1"}, "2.1"),
    ({"X-OpenStack-Nova-API-Version": "latest"}, MAX),
    ({"OpenStack-API-Version": "volume 3.0, compute 2.1"}, "2.1"),
    ({"OpenStack-API-Version": "compute " + MAX}, MAX),
    # The new header wins over the legacy one.
    ({"OpenStack-API-Version": "compute 2.1", "X-OpenStack-Nova-API-Version": "2.99"}, "2.1"),
    # A new header for another service only: the legacy one decides.
    ({"OpenStack-API-Version": "volume 3.5", "X-OpenStack-Nova-API-Version": "2.1"}, "2.1"),
])
def test_supported_versions_are_echoed(api: Api, headers: dict[str, str], echoed: str) -> None:
    resp = api.call("GET", "/v2.1/flavors", project(), headers=headers, status=200)
    assert resp.headers["OpenStack-API-Version"] == "compute " + echoed
    assert resp.headers["X-OpenStack-Nova-API-Version"] == echoed
    assert resp.headers["Vary"] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version"


@pytest.mark.parametrize("headers", [
    {"OpenStack-API-Version": "compute " + ABOVE}, {"OpenStack-API-Version": "compute 2.0"},
    {"OpenStack-API-Version": "compute 3.0"}, {"X-OpenStack-Nova-API-Version": "2.95"},
    {"X-OpenStack-Nova-API-Version": "1.1"},
])
def test_unsupported_versions_get_406(api: Api, headers: dict[str, str]) -> None:
    resp = api.call("GET", "/v2.1/flavors", project(), headers=headers, status=406)
    assert "Minimum is 2.1 and maximum is %s" % MAX in message(resp)


@pytest.mark.parametrize("value", ["2", "abc", "2.a", "2.1.1", "v2.1", "2.01", ""])
def test_malformed_versions_get_400(api: Api, value: str) -> None:
    resp = api.call("GET", "/v2.1/flavors", project(), status=400,
                    headers={"OpenStack-API-Version": "compute " + value})
    assert "invalid format" in message(resp)
    api.call("GET", "/v2.1/flavors", project(), status=400 if value else 200,
             headers={"X-OpenStack-Nova-API-Version": value})


def test_version_headers_on_errors(api: Api) -> None:
    resp = api.call("GET", "/v2.1/flavors/nope", project(), status=404)
    assert resp.headers["OpenStack-API-Version"] == "compute 2.1"


def test_unknown_path_and_method(api: Api) -> None:
    api.call("GET", "/v2.1/os-nothing", project(), status=404)
    resp = api.call("PUT", "/v2.1/flavors", project(), json_body={}, status=405)
    assert "GET" in resp.headers["Allow"]


def test_project_id_in_url(api: Api) -> None:
    p = project()
    resp = api.call("GET", "/v2.1/%s/flavors" % p, p, status=200)
    assert resp.json == {"flavors": resp.json["flavors"]}
    api.call("GET", "/v2.1/%s/os-keypairs" % p, p, status=200)
    resp = api.call("GET", "/v2.1/%s/flavors" % project(), p, status=400)
    assert "doesn't match" in message(resp)


def test_responses_carry_novas_legacy_request_id_header(api: Api) -> None:
    for status, path in ((200, "/v2.1"), (404, "/v2.1/servers/%s" % ("0" * 32))):
        resp = api.call("GET", path, project(), status=status)
        assert resp.headers["x-compute-request-id"] == resp.headers["X-OpenStack-Request-ID"]

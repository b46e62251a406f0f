"""Version discovery and microversion negotiation of the block storage API."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webtest

from blockstorage.api import microversion
from tests.fixtures import blockstorage as fx


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fx.BlockStorageService]:
    service = fx.BlockStorageService(fx.make_conf(str(tmp_path_factory.mktemp("bs"))))
    yield service
    service.stop()


@pytest.fixture(scope="module")
def api(svc: fx.BlockStorageService) -> fx.Api:
    return fx.Api(webtest.TestApp(svc.pipeline))


def test_root_lists_v3_with_300_and_no_token(api: fx.Api) -> None:
    resp = api.call("GET", "/", status=300)
    fx.check_schema(fx.tempest_schema("versions", "list_versions"), resp)
    (entry,) = resp.json["versions"]
    assert entry["id"] == "v3.0" and entry["status"] == "CURRENT"
    assert entry["version"] == "3.60" and entry["min_version"] == "3.0"
    assert {"rel": "self", "href": "http://localhost/v3/"} in entry["links"]
    assert entry["media-types"][0]["type"].startswith("application/vnd.openstack.volume")


@pytest.mark.parametrize("path", ["/v3/", "/v3"])
def test_v3_document_is_public(api: fx.Api, path: str) -> None:
    resp = api.call("GET", path, status=200)
    fx.check_schema(fx.tempest_schema("versions", "volume_api_version_details"), resp)
    assert resp.json["versions"][0]["id"] == "v3.0"
    assert resp.headers["OpenStack-API-Version"] == "volume 3.0"


def test_v3_with_project_needs_a_token(api: fx.Api) -> None:
    project = fx.project()
    api.call("GET", "/v3/%s/volumes" % project, status=401)
    resp = api.v3("GET", "/", project, status=200)
    assert resp.json["versions"][0]["version"] == "3.60"


@pytest.mark.parametrize("header,wanted", [
    (None, "3.0"), ("volume 3.27", "3.27"), ("volume latest", "3.60"),
    ("compute 2.5, volume 3.44", "3.44"), ("compute 2.60", "3.0"), ("VOLUME 3.9", "3.9")])
def test_negotiation_echoes_the_version(api: fx.Api, header: str | None,
                                        wanted: str) -> None:
    project = fx.project()
    headers = {"OpenStack-API-Version": header} if header else {}
    resp = api.v3("GET", "/volumes", project, headers=headers, status=200)
    assert resp.headers["OpenStack-API-Version"] == "volume " + wanted
    assert resp.headers["Vary"] == "OpenStack-API-Version"


@pytest.mark.parametrize("version,status", [("3.61", 406), ("4.0", 406), ("2.0", 406),
                                            ("3.x", 400), ("3", 400), ("3.01", 400)])
def test_bad_versions_are_refused(api: fx.Api, version: str, status: int) -> None:
    resp = api.v3("GET", "/volumes", fx.project(), version=version, status=status)
    name = "notAcceptable" if status == 406 else "badRequest"
    assert version in resp.json[name]["message"]
    assert "OpenStack-API-Version" not in resp.headers


def test_method_newer_than_request_is_not_found(api: fx.Api) -> None:
    project = fx.project()
    resp = api.v3("GET", "/volumes/summary", project, version="3.11", status=404)
    assert "3.11" in resp.json["itemNotFound"]["message"]
    assert resp.headers["OpenStack-API-Version"] == "volume 3.11"
    api.v3("GET", "/volumes/summary", project, version="3.12", status=200)


def test_errors_have_cinder_format(api: fx.Api) -> None:
    project = fx.project()
    resp = api.v3("GET", "/no-such-thing", project, status=404)
    assert resp.json["itemNotFound"]["code"] == 404
    resp = api.v3("PATCH", "/volumes", project, status=405)
    assert resp.json["badMethod"]["code"] == 405
    resp = api.v3("POST", "/volumes", project, body=b"{nope",
                  headers={"Content-Type": "application/json"}, status=400)
    assert "badRequest" in resp.json


def test_unit_negotiate_without_header_is_minimum() -> None:
    headers: dict[str, Any] = {}
    assert microversion.negotiate(headers) == (3, 0)
    assert microversion.negotiate({"OpenStack-API-Version": "volume latest"}) == \
        microversion.MAX_VERSION

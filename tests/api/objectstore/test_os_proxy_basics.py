"""The proxy against a real in-process cluster: paths, /info, name checks, the
transaction id, error bodies, and accounts (autocreate, metadata, management)."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from objectstore.common import registry
from tests.fixtures.objectstore import Cluster, cluster  # noqa: F401

TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")
NOT_FOUND = b"<html><h1>Not Found</h1><p>The resource could not be found.</p></html>"


def req(cluster: Cluster, method: str, path: str, **kwargs: Any) -> Any:  # noqa: F811
    return cluster.client.request(path, method=method, expect_errors=True, **kwargs)


@pytest.fixture
def managed(tmp_path: Any) -> Iterator[Cluster]:
    instance = Cluster(tmp_path, conf={"proxy": {"allow_account_management": True}})
    try:
        yield instance
    finally:
        instance.stop()


def test_info_lists_swift_constraints_and_policies(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "GET", "/info")
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    swift = json.loads(resp.body)["swift"]
    assert swift["max_file_size"] == 5368709122
    assert swift["max_object_name_length"] == 1024
    assert swift["container_listing_limit"] == 10000
    assert swift["policies"] == [{"name": "Policy-0", "default": True}]
    assert swift["strict_cors_mode"] is True
    assert "version" in swift
    assert registry.get_swift_info()["swift"]["max_meta_count"] == 90


def test_every_answer_has_trans_id_content_type_and_length(cluster: Cluster) -> None:  # noqa: F811,E501
    for method, path in (("GET", "/info"), ("HEAD", "/v1/AUTH_x"), ("GET", "/v1/AUTH_x/nope"),
                         ("GET", "/nothing")):
        resp = req(cluster, method, path)
        assert TRANS_ID.match(resp.headers["X-Trans-Id"]), (method, path)
        assert resp.headers["X-Openstack-Request-Id"] == resp.headers["X-Trans-Id"]
        assert resp.headers.get("Content-Type"), (method, path)
        assert "Content-Length" in resp.headers, (method, path)


def test_bad_paths_versions_and_names(cluster: Cluster) -> None:  # noqa: F811
    assert req(cluster, "GET", "/").status_int == 404
    assert req(cluster, "GET", "/v1").status_int == 404
    resp = req(cluster, "GET", "/v2/AUTH_x")
    assert resp.status_int == 400 and resp.body == b"Invalid path"
    resp = req(cluster, "GET", "/v1/AUTH_x/c/%FF")
    assert resp.status_int == 412 and resp.body == b"Invalid UTF8 or contains NULL"
    assert req(cluster, "GET", "/v1/AUTH_x/c/a%00b").status_int == 412
    resp = req(cluster, "PUT", "/v1/AUTH_x/" + "c" * 257)
    assert resp.status_int == 400
    assert b"Container name length of 257 longer than 256" in resp.body
    resp = req(cluster, "PUT", "/v1/AUTH_x/c/" + "o" * 1025, body=b"x")
    assert resp.status_int == 400 and b"Object name length" in resp.body
    assert req(cluster, "HEAD", "/v1.0/AUTH_x").status_int == 204


def test_not_found_has_swift_body(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "GET", "/v1/AUTH_x/missing")
    assert resp.status_int == 404
    assert resp.body == NOT_FOUND
    assert resp.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_missing_account_looks_empty_with_autocreate(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "GET", "/v1/AUTH_new")
    assert resp.status_int == 204
    assert resp.headers["X-Account-Container-Count"] == "0"
    assert resp.headers["X-Account-Bytes-Used"] == "0"
    assert resp.headers["Accept-Ranges"] == "bytes"
    resp = req(cluster, "GET", "/v1/AUTH_new?format=json")
    assert resp.status_int == 200 and resp.json == []


def test_missing_account_is_404_without_autocreate(tmp_path: Any) -> None:
    instance = Cluster(tmp_path, conf={"proxy": {"account_autocreate": False}})
    try:
        assert req(instance, "HEAD", "/v1/AUTH_none").status_int == 404
        assert req(instance, "PUT", "/v1/AUTH_none/c").status_int == 404
        assert req(instance, "POST", "/v1/AUTH_none").status_int == 404
    finally:
        instance.stop()


def test_account_post_creates_and_stores_metadata(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "POST", "/v1/AUTH_m", headers={"X-Account-Meta-Color": "blue"})
    assert resp.status_int == 204
    resp = req(cluster, "HEAD", "/v1/AUTH_m")
    assert resp.status_int == 204
    assert resp.headers["X-Account-Meta-Color"] == "blue"
    assert req(cluster, "POST", "/v1/AUTH_m",
               headers={"X-Remove-Account-Meta-Color": "x"}).status_int == 204
    assert "X-Account-Meta-Color" not in req(cluster, "HEAD", "/v1/AUTH_m").headers


def test_account_metadata_limits(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "POST", "/v1/AUTH_m", headers={"X-Account-Meta-" + "n" * 129: "v"})
    assert resp.status_int == 400
    resp = req(cluster, "POST", "/v1/AUTH_m", headers={"X-Account-Meta-A": "v" * 257})
    assert resp.status_int == 400


def test_account_put_and_delete_need_account_management(cluster: Cluster) -> None:  # noqa: F811,E501
    resp = req(cluster, "PUT", "/v1/AUTH_p")
    assert resp.status_int == 405
    assert "POST" in resp.headers["Allow"]
    assert req(cluster, "DELETE", "/v1/AUTH_p").status_int == 405


def test_account_management_when_allowed(managed: Cluster) -> None:
    assert req(managed, "PUT", "/v1/AUTH_p").status_int == 201
    assert req(managed, "PUT", "/v1/AUTH_p").status_int == 202
    assert req(managed, "DELETE", "/v1/AUTH_p").status_int == 204


def test_unknown_method_is_405(cluster: Cluster) -> None:  # noqa: F811
    resp = req(cluster, "PATCH", "/v1/AUTH_x/c")
    assert resp.status_int == 405
    assert "PUT" in resp.headers["Allow"]


PASTE = """
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck request_id proxy-server

[filter:catch_errors]
paste.filter_factory = objectstore.middleware.catch_errors:filter_factory

[filter:gatekeeper]
paste.filter_factory = objectstore.middleware.gatekeeper:filter_factory

[filter:healthcheck]
paste.filter_factory = common.wsgi.middleware.healthcheck:filter_factory

[filter:request_id]
paste.filter_factory = common.wsgi.middleware.request_id:filter_factory

[app:proxy-server]
paste.app_factory = objectstore.proxy.server:app_factory
"""


def test_paste_pipeline_loads_the_proxy(cluster: Cluster, tmp_path: Any) -> None:  # noqa: F811,E501
    import webtest

    from common import service

    ini = tmp_path / "proxy-paste.ini"
    ini.write_text(PASTE)
    app = webtest.TestApp(service.load_app(cluster.conf, path=str(ini)))
    assert app.get("/healthcheck").body == b"OK"
    app.put("/v1/AUTH_paste/c", status=201)
    resp = app.put("/v1/AUTH_paste/c/o", params=b"hi", status=201)
    assert TRANS_ID.match(resp.headers["X-Openstack-Request-Id"])
    assert app.get("/v1/AUTH_paste/c/o").body == b"hi"


def test_catch_errors_turns_exceptions_into_500(caplog: pytest.LogCaptureFixture) -> None:
    import webtest

    from objectstore.middleware import catch_errors

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("boom")

    resp = webtest.TestApp(catch_errors.filter_factory({})(broken)).get("/v1/a", status=500)
    assert resp.body.startswith(b"<html><h1>Internal Error</h1>")
    assert TRANS_ID.match(resp.headers["X-Trans-Id"])
    assert "boom" not in resp.text
    assert resp.headers["X-Trans-Id"] in caplog.text and "RuntimeError" in caplog.text

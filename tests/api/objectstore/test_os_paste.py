"""The shipped proxy pipeline (etc/objectstore/proxy-paste.ini) loads with every filter
README.md names, in its order, and serves a real cluster: ``main`` (keystone) answers
the health check and /info without a token; ``standalone`` (tempauth) end to end."""
from __future__ import annotations

import configparser
import os
from typing import Any, Iterator

import pytest
import webtest
from keystonemiddleware import auth_token

from common import service
from tests.fixtures.objectstore import Cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PASTE = os.path.join(REPO, "etc", "objectstore", "proxy-paste.ini")
README_ORDER = ["catch_errors", "gatekeeper", "healthcheck", "crossdomain", "request_id",
                "bulk", "tempurl", "formpost", "authtoken", "keystoneauth", "staticweb", "copy",
                "container_quotas", "account_quotas", "slo", "dlo", "versioned_writes",
                "proxy-server"]


def _pipelines() -> dict[str, list[str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PASTE)
    return {name.split(":", 1)[1]: parser[name]["pipeline"].split()
            for name in parser.sections() if name.startswith("pipeline:")}


def test_pipelines_follow_the_readme_order() -> None:
    pipelines = _pipelines()
    assert pipelines["main"] == README_ORDER
    standalone = list(README_ORDER)
    standalone[standalone.index("authtoken"):standalone.index("keystoneauth") + 1] = \
        ["tempauth"]
    assert pipelines["standalone"] == standalone


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[Cluster]:
    instance = Cluster(tmp_path)
    try:
        yield instance
    finally:
        instance.stop()


def test_main_pipeline_answers_health_and_info_without_keystone(cluster: Cluster) -> None:
    # The 401's WWW-Authenticate names identity (devstack sets this option too).
    for group, opts in auth_token.list_opts():
        cluster.conf.register_opts(opts, group=group)
    cluster.conf.set_override("www_authenticate_uri", "http://127.0.0.1:5000",
                              group="keystone_authtoken")
    app = webtest.TestApp(service.load_app(cluster.conf, "main", PASTE))
    assert app.get("/healthcheck").text == "OK"
    info = app.get("/info").json
    for name in ("swift", "slo", "tempurl", "crossdomain", "account_quotas"):
        assert name in info
    policy = app.get("/crossdomain.xml")
    assert policy.text.startswith('<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy')
    assert policy.text.endswith("</cross-domain-policy>")
    # No token: keystoneauth denies (authtoken delays its decision to it).
    resp = app.put("/v1/AUTH_test/c", status=401)
    assert "127.0.0.1:5000" in resp.headers["WWW-Authenticate"]
    # Answers made above the proxy carry the transaction id too.
    for answer in (policy, resp, app.get("/healthcheck")):
        assert answer.headers["X-Trans-Id"].startswith("tx")
        assert answer.headers["X-Openstack-Request-Id"] == answer.headers["X-Trans-Id"]


def test_standalone_pipeline_with_tempauth(cluster: Cluster) -> None:
    app = webtest.TestApp(service.load_app(cluster.conf, "standalone", PASTE))
    resp = app.get("/auth/v1.0", headers={"X-Auth-User": "test:tester",
                                          "X-Auth-Key": "testing"})
    token = resp.headers["X-Auth-Token"]
    url = resp.headers["X-Storage-Url"]
    path = url[url.index("/v1/"):]
    headers = {"X-Auth-Token": token}
    app.put(path + "/c", headers=headers, status=201)
    app.put(path + "/c/o", b"hello", headers=headers, status=201)
    assert app.get(path + "/c/o", headers=headers).body == b"hello"
    app.get(path + "/c/o", status=401)

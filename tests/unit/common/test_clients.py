"""Tests for common.clients.base: sessions, adapters, service tokens (no network)."""
from __future__ import annotations

import json
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import service_token
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import generic, v3
from oslo_config import cfg

from common import context
from common.clients import base

KEYSTONE = "http://keystone.test/v3"
IMAGE_INTERNAL = "http://image.internal:9292"
IMAGE_PUBLIC = "http://image.public:9292"
TOKEN_BODY = {"token": {
    "methods": ["password"], "expires_at": "2999-01-01T00:00:00.000000Z",
    "issued_at": "2020-01-01T00:00:00.000000Z",
    "user": {"id": "svc-user", "name": "compute", "domain": {"id": "default", "name": "Default"}},
    "project": {"id": "svc-project", "name": "service",
                "domain": {"id": "default", "name": "Default"}},
    "roles": [{"id": "r1", "name": "service"}],
    "catalog": [{"type": "image", "id": "s1", "name": "image", "endpoints": [
        {"id": "e1", "interface": "internal", "url": IMAGE_INTERNAL,
         "region": "RegionOne", "region_id": "RegionOne"},
        {"id": "e2", "interface": "public", "url": IMAGE_PUBLIC,
         "region": "RegionOne", "region_id": "RegionOne"}]}]}}


class FakeHTTP(requests.adapters.BaseAdapter):
    """A requests transport playing keystone and an image API, recording requests."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: bool | str = True, cert: Any = None,
             proxies: dict[str, str] | None = None) -> requests.Response:
        self.sent.append(request)
        url = request.url or ""
        if url.rstrip("/") == KEYSTONE:
            return self._json(200, {"version": {
                "id": "v3.14", "status": "stable",
                "links": [{"rel": "self", "href": KEYSTONE + "/"}]}})
        if url == KEYSTONE + "/auth/tokens":
            return self._json(201, TOKEN_BODY, {"X-Subject-Token": "svc-token"})
        return self._json(200, {"url": url})

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp._content = json.dumps(body).encode()
        resp.headers.update({"Content-Type": "application/json", **(headers or {})})
        return resp

    def close(self) -> None:
        pass


def make_conf(tmp_path: pathlib.Path, **group: str) -> cfg.ConfigOpts:
    values = {"auth_url": KEYSTONE, "username": "compute", "password": "s3cret",
              "project_name": "service", "user_domain_name": "Default",
              "project_domain_name": "Default", "region_name": "RegionOne"}
    values.update(group)
    path = tmp_path / "stratus.conf"
    path.write_text("[service_user]\n" + "".join(
        f"{key} = {value}\n" for key, value in values.items() if value != ""))
    conf = cfg.ConfigOpts()
    base.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    return conf


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    base.reset()
    yield
    base.reset()


def _mount(session: ks_session.Session) -> FakeHTTP:
    fake = FakeHTTP()
    session.session.mount("http://", fake)
    return fake


def user_context(**kwargs: Any) -> context.RequestContext:
    kwargs.setdefault("global_request_id", "req-" + str(uuid.uuid4()))
    return context.RequestContext(auth_token="user-token", user_id="u1",
                                  project_id="p1", **kwargs)


def test_options_registered_with_defaults(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    grp = conf.service_user
    assert grp.auth_type == "password"
    assert grp.send_service_token is True
    assert (grp.username, grp.project_name, grp.region_name) == ("compute", "service", "RegionOne")
    assert grp.interface is None and grp.insecure is False
    names = {opt.dest for opt in base.list_opts()[0][1]}
    assert {"auth_url", "username", "password", "project_name", "user_domain_name",
            "project_domain_name", "region_name", "interface", "valid_interfaces",
            "send_service_token", "cafile", "auth_type"} <= names


def test_session_for_builds_password_auth_and_is_cached(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path, insecure="true", timeout="7")
    session = base.session_for(conf)
    assert isinstance(session, ks_session.Session)
    assert isinstance(session.auth, generic.Password)
    assert session.auth.auth_url == KEYSTONE
    assert session.auth._username == "compute"  # keystoneauth keeps no public accessor
    assert session.auth._project_name == "service"
    assert (session.verify, session.timeout) == (False, 7.0)
    assert base.session_for(conf) is session
    assert base.load_auth(conf) is session.auth


def test_other_auth_type_with_overlapping_options(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path, auth_type="v3password")
    auth = base.load_auth(conf)
    assert isinstance(auth, v3.Password)
    assert auth.auth_url == KEYSTONE


def test_adapter_finds_endpoint_in_catalog(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    fake = _mount(base.session_for(conf))
    adapter = base.adapter(conf, "service_user", "image")
    assert isinstance(adapter, ks_adapter.Adapter)
    assert adapter.interface == ["internal", "public"]
    assert adapter.get_endpoint() == IMAGE_INTERNAL
    assert adapter.get("/v2/images").json() == {"url": IMAGE_INTERNAL + "/v2/images"}
    assert fake.sent[-1].headers["X-Auth-Token"] == "svc-token"


def test_adapter_honours_interface_and_override(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path, valid_interfaces="public")
    _mount(base.session_for(conf))
    assert base.adapter(conf, "service_user", "image").get_endpoint() == IMAGE_PUBLIC
    base.reset()
    conf = make_conf(tmp_path, endpoint_override="http://elsewhere:1")
    assert base.adapter(conf, "service_user", "image").get_endpoint() == "http://elsewhere:1"


def test_context_auth_wraps_user_and_service_tokens(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    fake = _mount(base.session_for(conf))
    ctxt = user_context()
    adapter = base.adapter(conf, "service_user", "image", ctxt=ctxt)
    assert isinstance(adapter.auth, service_token.ServiceTokenAuthWrapper)
    assert adapter.global_request_id == ctxt.global_request_id
    headers = adapter.auth.get_headers(adapter.session)
    assert headers == {"X-Auth-Token": "user-token", "X-Service-Token": "svc-token"}
    adapter.get("/v2/images")
    sent = fake.sent[-1]
    assert sent.url == IMAGE_INTERNAL + "/v2/images"
    assert sent.headers["X-Auth-Token"] == "user-token"
    assert sent.headers["X-Service-Token"] == "svc-token"
    assert sent.headers["X-OpenStack-Request-ID"] == ctxt.global_request_id


def test_user_session_carries_tokens_and_request_id(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    base_session = base.session_for(conf)
    fake = _mount(base_session)
    ctxt = user_context(global_request_id=None)
    session = base.user_session(conf, ctxt)
    assert session.session is base_session.session  # shared connection pool
    session.get(IMAGE_PUBLIC + "/v2/images/x")
    sent = fake.sent[-1]
    assert sent.headers["X-Auth-Token"] == "user-token"
    assert sent.headers["X-Service-Token"] == "svc-token"
    assert sent.headers["X-OpenStack-Request-ID"] == ctxt.request_id


def test_project_templated_override_uses_user_project(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    fake = _mount(base.session_for(conf))
    adapter = base.adapter(conf, "service_user", "object-store", ctxt=user_context(),
                           endpoint_override="http://swift.test/v1/AUTH_%(project_id)s")
    adapter.get("/c")
    assert fake.sent[-1].url == "http://swift.test/v1/AUTH_p1/c"


def test_without_service_token(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path, send_service_token="false")
    auth = base.context_auth(conf, user_context())
    assert isinstance(auth, base.ContextAuth)
    assert auth.get_headers(base.session_for(conf)) == {"X-Auth-Token": "user-token"}
    assert auth.invalidate() is False


def test_context_without_token_acts_as_service(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path)
    assert base.context_auth(conf, context.admin_context()) is base.load_auth(conf)


def test_static_service_token_plugin(tmp_path: pathlib.Path) -> None:
    conf = make_conf(tmp_path, auth_type="admin_token", token="static-svc",
                     endpoint="http://image.test")
    auth = base.context_auth(conf, user_context())
    assert isinstance(auth, service_token.ServiceTokenAuthWrapper)
    assert auth.get_headers(base.session_for(conf)) == {
        "X-Auth-Token": "user-token", "X-Service-Token": "static-svc"}


def test_unconfigured_group_still_parses() -> None:
    conf = cfg.ConfigOpts()
    base.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])  # auth_url not required here
    with pytest.raises(ks_exceptions.MissingRequiredOptions):
        base.load_auth(conf)

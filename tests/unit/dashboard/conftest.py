"""Dashboard unit tests: the Django app in process, the cloud faked at its one
boundary (``dashboard.cloud.connection``, the openstacksdk Connection).

Fixtures: ``client`` (logged in as a project member), ``admin_client`` (logged in
with the admin role), ``anon_client`` (not logged in) and ``conn`` (the
MagicMock every view gets as its Connection; set return values on it).
"""
from __future__ import annotations

import datetime
from typing import Any, Iterator
from unittest import mock

import pytest
from oslo_config import cfg

PROJECT_ID = "p-demo-0001"
OTHER_PROJECT_ID = "p-other-0002"
SERVICES = ("compute", "image", "network", "block-storage", "object-store", "identity")


def token_state(roles: tuple[str, ...] = ("member",), services: tuple[str, ...] = SERVICES,
                expires_in: float = 3600) -> dict[str, Any]:
    """What ``dashboard.auth.login`` keeps in the session, for a fake token."""
    expires = (datetime.datetime.now(datetime.timezone.utc)
               + datetime.timedelta(seconds=expires_in))
    body = {"token": {
        "methods": ["token"],
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "issued_at": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.000000Z"),
        "user": {"id": "u-demo", "name": "demo", "domain": {"id": "default", "name": "Default"}},
        "project": {"id": PROJECT_ID, "name": "demo",
                    "domain": {"id": "default", "name": "Default"}},
        "roles": [{"id": "r-" + r, "name": r} for r in roles],
        "catalog": [{"type": s, "name": s, "id": "s-" + s,
                     "endpoints": [{"interface": "public", "region": "RegionOne",
                                    "region_id": "RegionOne", "id": "e-" + s,
                                    "url": "http://127.0.0.1:1/" + s}]} for s in services],
    }}
    return {"unscoped": "unscoped-token", "token": "scoped-token", "body": body,
            "projects": [{"id": PROJECT_ID, "name": "demo"},
                         {"id": OTHER_PROJECT_ID, "name": "other"}]}


@pytest.fixture(scope="session")
def django_app(tmp_path_factory: Any) -> None:
    from django.test.utils import setup_test_environment

    from dashboard import conf as dashboard_conf
    from dashboard import settings

    conf = cfg.ConfigOpts()
    dashboard_conf.register_opts(conf)
    conf([], project="stratus", default_config_files=[])
    conf.set_override("state_path", str(tmp_path_factory.mktemp("dashboard")))
    settings.configure(conf)
    setup_test_environment()


def _client(state: dict[str, Any] | None) -> Any:
    from django.conf import settings
    from django.test import Client

    from dashboard import auth

    client = Client()
    if state is not None:
        session = client.session
        session[auth.SESSION_KEY] = state
        session.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


@pytest.fixture
def conn() -> Iterator[mock.MagicMock]:
    fake = mock.MagicMock(name="connection")
    with mock.patch("dashboard.cloud.connection", return_value=fake):
        yield fake


@pytest.fixture
def client(django_app: None, conn: mock.MagicMock) -> Any:
    return _client(token_state())


@pytest.fixture
def admin_client(django_app: None, conn: mock.MagicMock) -> Any:
    return _client(token_state(roles=("admin", "member")))


@pytest.fixture
def anon_client(django_app: None) -> Any:
    return _client(None)


@pytest.fixture
def expired_client(django_app: None, conn: mock.MagicMock) -> Any:
    return _client(token_state(expires_in=-60))


def http_error(status: int, message: str = "refused") -> Exception:
    """An openstacksdk HttpException as the API would raise it."""
    from openstack import exceptions as sdk_exc

    resp = mock.MagicMock(status_code=status, headers={})
    resp.json.return_value = {"error": {"message": message, "code": status}}
    cls = {404: sdk_exc.NotFoundException, 409: sdk_exc.ConflictException,
           400: sdk_exc.BadRequestException, 403: sdk_exc.ForbiddenException}.get(
        status, sdk_exc.HttpException)
    return cls(message=message, response=resp)

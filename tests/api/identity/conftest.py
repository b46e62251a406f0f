"""Fixtures for the identity API tests.

Every test module gets one identity service of its own (built from the real
api-paste.ini by ``tests.fixtures.identity``), a ``webtest.TestApp`` on its
pipeline, an ``Api`` helper holding a cloud-admin token, and the personas the
protection tests need. Tests that revoke, disable or delete something make their
own users and projects so that the shared personas stay usable.
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

from identity_api_helpers import ADMIN_PASSWORD, Api, Persona, unique  # noqa: E402

from tests.fixtures import identity as fx  # noqa: E402


# -- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """(paste pipeline, IdentityApp) of a fresh, bootstrapped identity service."""
    conf = fx.make_conf(str(tmp_path_factory.mktemp("identity")))
    pipeline, inner = fx.build(conf)
    yield pipeline, inner
    inner.db.dispose()


@pytest.fixture(scope="module")
def app(service: tuple[Any, Any]) -> webtest.TestApp:
    return webtest.TestApp(service[0])


@pytest.fixture(scope="module")
def inner(service: tuple[Any, Any]) -> Any:
    return service[1]


@pytest.fixture(scope="module")
def api(app: webtest.TestApp) -> Api:
    return Api(app)


@pytest.fixture(scope="module")
def project(api: Api) -> dict[str, Any]:
    """The project the member and reader personas work in."""
    return api.create_project(name=unique("team"))


@pytest.fixture(scope="module")
def other_project(api: Api) -> dict[str, Any]:
    return api.create_project(name=unique("elsewhere"))


@pytest.fixture(scope="module")
def cloud_admin(api: Api) -> Persona:
    """The bootstrap admin with a token scoped to the admin project."""
    return Persona("admin", api.admin_user_id, ADMIN_PASSWORD, api.admin_token,
                   api.admin_project_id)


@pytest.fixture(scope="module")
def system_reader(api: Api) -> Persona:
    return api.persona("reader", system=True, name=unique("sysreader"))


@pytest.fixture(scope="module")
def member(api: Api, project: dict[str, Any]) -> Persona:
    return api.persona("member", project["id"], name=unique("member"))


@pytest.fixture(scope="module")
def reader(api: Api, project: dict[str, Any]) -> Persona:
    return api.persona("reader", project["id"], name=unique("reader"))


@pytest.fixture(scope="module")
def other_member(api: Api, other_project: dict[str, Any]) -> Persona:
    return api.persona("member", other_project["id"], name=unique("othermember"))


@pytest.fixture(scope="module")
def no_roles(api: Api) -> Persona:
    """A user without any role assignment, holding an unscoped token."""
    return api.persona(None, name=unique("nobody"))

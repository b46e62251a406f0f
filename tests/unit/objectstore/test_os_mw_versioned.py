"""Versioned writes: container headers, stack mode (X-Versions-Location) and history mode
(X-History-Location), authorization, a missing archive, and COPY into a versioned
container (against FakeSwift)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import webob

from objectstore.common import registry
from objectstore.middleware import copy, versioned_writes
from objectstore.middleware.versioned_writes import version_prefix
from tests.unit.objectstore.os_fake_swift import FakeSwift, acl_authorize


@pytest.fixture
def fake() -> FakeSwift:
    fake = FakeSwift()
    fake.add_container("a", "c", x_versions_location="arch")
    fake.add_container("a", "arch")
    fake.add_container("a", "h", x_history_location="hist")
    fake.add_container("a", "hist")
    fake.add_container("a", "plain")
    return fake


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """An empty /info registry for the test, the previous one restored after it."""
    saved = registry.get_swift_info()
    registry.reset()
    yield
    registry.reset()
    for name, settings in saved.items():
        registry.register_swift_info(name, **settings)


def call(app: Any, path: str, method: str = "GET", headers: dict[str, str] | None = None,
         body: bytes | None = None, **environ: Any) -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=headers or {}, **environ)
    if body is not None:
        req.body = body
    return req.get_response(app)


def make(fake: FakeSwift, **conf: Any) -> Any:
    return versioned_writes.filter_factory({}, **conf)(fake)


def archived(fake: FakeSwift, container: str = "arch") -> list[tuple[str, bytes]]:
    return sorted((o, item.body) for (a, c, o), item in fake.objects.items()
                  if c == container)


def test_version_prefix() -> None:
    assert version_prefix("obj") == "003obj/"
    assert version_prefix("\u00e9") == "002\u00e9/"


def test_container_headers(fake: FakeSwift) -> None:
    app = make(fake)
    assert call(app, "/v1/a/new", "PUT", {"X-Versions-Location": "arch"}).status_int == 201
    assert fake.containers[("a", "new")]["x-versions-location"] == "arch"
    resp = call(app, "/v1/a/new", "POST", {"X-Versions-Location": "x",
                                           "X-History-Location": "y"})
    assert resp.status_int == 400
    assert call(app, "/v1/a/new", "POST", {"X-History-Location": "hist"}).status_int == 204
    meta = fake.containers[("a", "new")]
    assert meta["x-history-location"] == "hist" and "x-versions-location" not in meta
    # an empty history header beside a versions header: the versions header wins
    call(app, "/v1/a/new", "POST", {"X-Versions-Location": "arch", "X-History-Location": ""})
    meta = fake.containers[("a", "new")]
    assert meta["x-versions-location"] == "arch" and "x-history-location" not in meta
    assert call(app, "/v1/a/new", "POST", {"X-Remove-Versions-Location": "x"}).status_int == 204
    meta = fake.containers[("a", "new")]
    assert "x-versions-location" not in meta and "x-history-location" not in meta
    assert call(app, "/v1/a/new", "POST", {"X-Versions-Location": "a/b"}).status_int == 400


@pytest.mark.usefixtures("clean_registry")
def test_disabled(fake: FakeSwift) -> None:
    app = make(fake, allow_versioned_writes="false")
    assert "versioned_writes" not in registry.get_swift_info()
    assert call(app, "/v1/a/x", "PUT", {"X-Versions-Location": "arch"}).status_int == 412
    call(app, "/v1/a/c/o", "PUT", body=b"one")
    call(app, "/v1/a/c/o", "PUT", body=b"two")
    assert archived(fake) == []


def test_stack_mode_put_and_delete(fake: FakeSwift) -> None:
    app = make(fake)
    assert call(app, "/v1/a/c/o", "PUT", {"X-Object-Meta-N": "1", "Content-Type": "text/x-1"},
                b"one").status_int == 201
    assert archived(fake) == []          # nothing to archive the first time
    first_ts = fake.objects[("a", "c", "o")].timestamp
    call(app, "/v1/a/c/o", "PUT", {"X-Object-Meta-N": "2"}, b"two")
    call(app, "/v1/a/c/o", "PUT", {"X-Object-Meta-N": "3"}, b"three")
    versions = archived(fake)
    assert [body for _name, body in versions] == [b"one", b"two"]
    assert versions[0][0] == "001o/" + first_ts.internal
    first = fake.objects[("a", "arch", versions[0][0])]
    assert first.headers["x-object-meta-n"] == "1"
    assert first.headers["content-type"] == "text/x-1"
    assert {c.source for c in fake.calls if c.path.startswith("/v1/a/arch")} == {"VW"}
    assert fake.objects[("a", "c", "o")].body == b"three"

    assert call(app, "/v1/a/c/o", "DELETE").status_int == 204
    current = fake.objects[("a", "c", "o")]
    assert (current.body, current.headers["x-object-meta-n"]) == (b"two", "2")
    assert [body for _name, body in archived(fake)] == [b"one"]
    call(app, "/v1/a/c/o", "DELETE")
    current = fake.objects[("a", "c", "o")]
    assert (current.body, current.headers["content-type"]) == (b"one", "text/x-1")
    assert archived(fake) == []
    assert call(app, "/v1/a/c/o", "DELETE").status_int == 204
    assert ("a", "c", "o") not in fake.objects
    assert call(app, "/v1/a/c/o", "DELETE").status_int == 404


def test_versions_of_other_objects_are_left_alone(fake: FakeSwift) -> None:
    app = make(fake)
    for name in ("o", "o2", "o/x"):
        call(app, "/v1/a/c/%s" % name, "PUT", body=name.encode() + b"-1")
        call(app, "/v1/a/c/%s" % name, "PUT", body=name.encode() + b"-2")
    call(app, "/v1/a/c/o", "DELETE")
    assert fake.objects[("a", "c", "o")].body == b"o-1"
    assert fake.objects[("a", "c", "o2")].body == b"o2-2"
    assert sorted(body for _n, body in archived(fake)) == [b"o/x-1", b"o2-1"]


def test_history_mode(fake: FakeSwift) -> None:
    app = make(fake)
    call(app, "/v1/a/h/o", "PUT", body=b"one")
    call(app, "/v1/a/h/o", "PUT", body=b"two")
    assert [body for _n, body in archived(fake, "hist")] == [b"one"]
    assert call(app, "/v1/a/h/o", "DELETE").status_int == 204
    assert ("a", "h", "o") not in fake.objects
    names = [name for name, _body in archived(fake, "hist")]
    assert len(names) == 3 and all(n.startswith("001o/") for n in names)
    contents = [fake.objects[("a", "hist", n)] for n in names]
    assert [c.body for c in contents] == [b"one", b"two", b""]
    assert contents[2].headers["content-type"] == versioned_writes.DELETE_MARKER
    # a DELETE of a missing object still leaves a marker, and answers 404
    assert call(app, "/v1/a/h/o", "DELETE").status_int == 404
    assert len(archived(fake, "hist")) == 4


def test_stack_delete_after_history_marker(fake: FakeSwift) -> None:
    app = make(fake)
    call(app, "/v1/a/h/o", "PUT", body=b"one")
    call(app, "/v1/a/h/o", "DELETE")                  # archive "one", marker, delete
    call(app, "/v1/a/h", "POST", {"X-Versions-Location": "hist"})
    assert call(app, "/v1/a/h/o", "DELETE").status_int == 204
    assert fake.objects[("a", "h", "o")].body == b"one"
    assert archived(fake, "hist") == []


def test_missing_archive_container(fake: FakeSwift) -> None:
    app = make(fake)
    call(app, "/v1/a/c/o", "PUT", body=b"one")
    del fake.containers[("a", "arch")]
    assert call(app, "/v1/a/c/o", "PUT", body=b"two").status_int == 412
    assert fake.objects[("a", "c", "o")].body == b"one"


def test_client_must_be_allowed_before_versions_move(fake: FakeSwift) -> None:
    app = make(fake)
    call(app, "/v1/a/c/o", "PUT", body=b"one")
    env = {"swift.authorize": acl_authorize, "REMOTE_USER": "eve"}
    assert call(app, "/v1/a/c/o", "PUT", body=b"evil", environ=env).status_int == 403
    assert call(app, "/v1/a/c/o", "DELETE", environ=env).status_int == 403
    assert archived(fake) == []
    assert fake.objects[("a", "c", "o")].body == b"one"
    fake.add_container("a", "c", x_versions_location="arch", x_container_write="eve")
    assert call(app, "/v1/a/c/o", "PUT", body=b"two", environ=env).status_int == 201
    assert [body for _n, body in archived(fake)] == [b"one"]


def test_unversioned_containers_pass_through(fake: FakeSwift) -> None:
    app = make(fake)
    call(app, "/v1/a/plain/o", "PUT", body=b"one")
    call(app, "/v1/a/plain/o", "PUT", body=b"two")
    call(app, "/v1/a/plain/o", "DELETE")
    assert [c.source for c in fake.calls if c.method != "HEAD"] == [None, None, None]
    assert [c.path for c in fake.calls if c.method == "HEAD"] == ["/v1/a/plain"] * 3


def test_copy_into_a_versioned_container(fake: FakeSwift) -> None:
    app = copy.filter_factory({})(make(fake))
    call(app, "/v1/a/c/o", "PUT", body=b"old")
    call(app, "/v1/a/plain/src", "PUT", body=b"new")
    resp = call(app, "/v1/a/plain/src", "COPY", {"Destination": "c/o"})
    assert resp.status_int == 201
    assert fake.objects[("a", "c", "o")].body == b"new"
    assert [body for _n, body in archived(fake)] == [b"old"]


@pytest.mark.usefixtures("clean_registry")
def test_info_registration() -> None:
    versioned_writes.filter_factory({})
    assert registry.get_swift_info()["versioned_writes"] == {
        "allowed_flags": ["x-versions-location", "x-history-location"]}

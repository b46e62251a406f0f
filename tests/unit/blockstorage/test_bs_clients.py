"""blockstorage.clients against the real neighbours in process: the image service
(tests.fixtures.image) behind a real HTTP server with a stand-in for
keystonemiddleware that maps tokens to projects, and the object store cluster
(tests.fixtures.objectstore) with a filter recording what arrives."""
from __future__ import annotations

import hashlib
import os
import pathlib
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg

from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage.clients import image as image_client
from blockstorage.clients import objectstore
from common import context
from common.clients import base
from common.wsgi import server as wsgi_server
from tests.fixtures import image as image_fx
from tests.fixtures.objectstore import Cluster

SERVICE_TOKEN = "svc-token"


class TokenGate:
    """Stands in for auth_token: a known token becomes the fake auth's X-Test-* headers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: dict[str, str] = {SERVICE_TOKEN: "service"}
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                          "length": environ.get("CONTENT_LENGTH"),
                          "token": environ.get("HTTP_X_AUTH_TOKEN"),
                          "service_token": environ.get("HTTP_X_SERVICE_TOKEN"),
                          "request_id": environ.get("HTTP_X_OPENSTACK_REQUEST_ID")})
        for key in ("HTTP_X_TEST_PROJECT", "HTTP_X_TEST_ROLES", "HTTP_X_TEST_USER"):
            environ.pop(key, None)
        project = self.tokens.get(environ.get("HTTP_X_AUTH_TOKEN", ""))
        if project is not None:
            environ["HTTP_X_TEST_PROJECT"] = project
        return self.app(environ, start_response)


def make_conf(tmp: pathlib.Path, **sections: dict[str, str]) -> cfg.ConfigOpts:
    """A block storage config whose [service_user] is a static service token."""
    text = "[service_user]\nauth_type = admin_token\ntoken = %s\n" % SERVICE_TOKEN
    for name, values in sections.items():
        text += "[%s]\n%s\n" % (name, "\n".join("%s = %s" % kv for kv in values.items()))
    path = tmp / ("blockstorage-%s.conf" % uuid.uuid4().hex)
    path.write_text(text)
    base.reset()
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    return conf


class ImageEnv:
    def __init__(self, tmp: pathlib.Path) -> None:
        self.service = image_fx.ImageService(image_fx.make_conf(str(tmp / "image")))
        self.gate = TokenGate(self.service.pipeline)
        self.http = wsgi_server.Server(self.gate, "127.0.0.1", 0, threads=4)
        self.http.start()
        url = "http://127.0.0.1:%d" % self.http.port
        self.conf = make_conf(tmp, glance={"endpoint_override": url})
        self.api = image_client.ImageAPI(self.conf)

    def stop(self) -> None:
        self.http.stop()
        self.service.stop()
        base.reset()

    def user(self) -> context.RequestContext:
        token = "user-" + uuid.uuid4().hex
        self.gate.tokens[token] = uuid.uuid4().hex
        return context.RequestContext(auth_token=token, user_id="u",
                                      project_id=self.gate.tokens[token])


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageEnv]:
    environment = ImageEnv(tmp_path_factory.mktemp("image"))
    try:
        yield environment
    finally:
        environment.stop()


def _file(tmp_path: pathlib.Path, size: int) -> pathlib.Path:
    path = tmp_path / ("data-%d" % size)
    path.write_bytes(os.urandom(size))
    return path


def test_upload_volume_to_image_then_download(images: ImageEnv,
                                              tmp_path: pathlib.Path) -> None:
    ctxt = images.user()
    meta = {"name": "from-volume", "disk_format": "raw", "container_format": "bare",
            "visibility": "private", "protected": "False", "min_disk": 1,
            # kept on a volume from an image (volume_image_metadata): strings
            "min_ram": "0", "volume_id": "v1", "hw_disk_bus": None, "status": "ignored"}
    queued = images.api.create_image(ctxt, meta)
    assert (queued["status"], queued["name"], queued["owner"]) == (
        "queued", "from-volume", ctxt.project_id)
    assert queued["volume_id"] == "v1" and "hw_disk_bus" not in queued
    assert (queued["min_ram"], queued["protected"]) == (0, False)
    source = _file(tmp_path, 2 * 1024 * 1024 + 5)
    data = source.read_bytes()
    active = images.api.upload_image_data(ctxt, queued["id"], str(source))
    assert active["status"] == "active" and active["size"] == len(data)
    assert active["checksum"] == hashlib.md5(data).hexdigest()
    put = [s for s in images.gate.seen if s["method"] == "PUT"][-1]
    assert (put["token"], put["service_token"]) == (ctxt.auth_token, SERVICE_TOKEN)
    assert put["length"] == str(len(data))
    assert put["request_id"] == ctxt.global_id
    dest = tmp_path / "down" / "image"
    dest.parent.mkdir()
    got = images.api.download_image(ctxt, queued["id"], str(dest))
    assert got["id"] == queued["id"] and dest.read_bytes() == data
    assert os.listdir(dest.parent) == ["image"]
    assert images.api.get_image(ctxt, queued["id"])["checksum"] == active["checksum"]
    images.api.delete_image(ctxt, queued["id"])
    with pytest.raises(exception.ImageNotFound):
        images.api.get_image(ctxt, queued["id"])
    images.api.delete_image(ctxt, queued["id"])  # gone already: fine


def test_download_refuses_mismatched_data(images: ImageEnv, tmp_path: pathlib.Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ctxt = images.user()
    img = images.api.create_image(ctxt, {"name": "x", "disk_format": "raw",
                                         "container_format": "bare"})
    images.api.upload_image_data(ctxt, img["id"], str(_file(tmp_path, 70_000)))
    real = image_client.ImageAPI.get_image
    out = tmp_path / "out"
    out.mkdir()
    for key, value in (("checksum", "0" * 32), ("os_hash_value", "0" * 128), ("size", 5)):
        def lying(self: Any, c: Any, image_id: str, key: str = key,
                  value: Any = value) -> dict[str, Any]:
            return dict(real(self, c, image_id), **{key: value})
        monkeypatch.setattr(image_client.ImageAPI, "get_image", lying)
        with pytest.raises(exception.ImageCopyFailure):
            images.api.download_image(ctxt, img["id"], str(out / key))
        assert os.listdir(out) == []  # nothing half-written left behind


def test_missing_foreign_queued_and_refused_images(images: ImageEnv,
                                                   tmp_path: pathlib.Path) -> None:
    ctxt = images.user()
    missing = str(uuid.uuid4())
    with pytest.raises(exception.ImageNotFound) as caught:
        images.api.get_image(ctxt, missing)
    assert caught.value.code == 404
    theirs = images.api.create_image(images.user(), {"name": "t", "visibility": "private"})
    with pytest.raises(exception.ImageNotFound):
        images.api.get_image(ctxt, theirs["id"])
    queued = images.api.create_image(ctxt, {"name": "q", "disk_format": "raw",
                                            "container_format": "bare"})
    with pytest.raises(exception.ImageUnacceptable):
        images.api.download_image(ctxt, queued["id"], str(tmp_path / "q"))
    assert not (tmp_path / "q").exists()
    with pytest.raises(exception.ImageUnacceptable) as bad:
        images.api.create_image(ctxt, {"name": "bad", "disk_format": "floppy"})
    assert bad.value.code == 400


def test_unreachable_image_service_is_503(tmp_path: pathlib.Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = make_conf(tmp_path, glance={"endpoint_override": "http://127.0.0.1:%d" % port})
    try:
        with pytest.raises(exception.ImageServiceUnavailable) as caught:
            image_client.ImageAPI(conf).get_image(None, "x")
        assert caught.value.code == 503
    finally:
        base.reset()


@pytest.mark.parametrize("endpoint, expected", [
    ("http://s:8080/v1/AUTH_service", "http://s:8080/v1/AUTH_p1"),
    ("http://s:8080/v1/AUTH_service/", "http://s:8080/v1/AUTH_p1"),
    ("http://s:8080/v1/AUTH_", "http://s:8080/v1/AUTH_p1"),
    ("http://s:8080/v1", "http://s:8080/v1/AUTH_p1"),
    ("http://s:8080/v1/AUTH_%(project_id)s", "http://s:8080/v1/AUTH_p1"),
    ("http://s:8080/v1/fixed_account", "http://s:8080/v1/fixed_account"),
])
def test_account_url(endpoint: str, expected: str) -> None:
    assert objectstore.account_url(endpoint, "p1") == expected


class Recorder:
    """A Paste-style filter noting each request's path and tokens."""

    seen: list[dict[str, Any]] = []

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        Recorder.seen.append({"path": environ["PATH_INFO"],
                              "token": environ.get("HTTP_X_AUTH_TOKEN"),
                              "service_token": environ.get("HTTP_X_SERVICE_TOKEN")})
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    instance = Cluster(tmp_path_factory.mktemp("cluster"), filters=[Recorder])
    try:
        yield instance
    finally:
        instance.stop()


def test_objectstore_client_acts_in_the_users_account(cluster: Cluster,
                                                      tmp_path: pathlib.Path) -> None:
    url = cluster.serve_proxy()
    conf = make_conf(tmp_path, swift={"endpoint_override": url + "/v1/AUTH_service"})
    ctxt = context.RequestContext(auth_token="user-tok", user_id="u", project_id="p1")
    store = objectstore.ObjectStoreAPI.for_project(conf, ctxt)
    store.put_container("volumebackups")
    etag = store.put_object("volumebackups", "volume_x/1/a-00001", iter([b"ab", b"c"]))
    assert etag == hashlib.md5(b"abc").hexdigest()
    assert b"".join(store.get_object("volumebackups", "volume_x/1/a-00001")) == b"abc"
    assert store.list_objects("volumebackups", prefix="volume_x/") == ["volume_x/1/a-00001"]
    assert Recorder.seen[-1] == {"path": "/v1/AUTH_p1/volumebackups", "token": "user-tok",
                                 "service_token": SERVICE_TOKEN}
    other = objectstore.ObjectStoreAPI.for_project(conf, context.admin_context(), "p2")
    other.put_container("c")
    assert Recorder.seen[-1]["path"] == "/v1/AUTH_p2/c"
    assert Recorder.seen[-1]["token"] == SERVICE_TOKEN  # no user: the service itself
    assert store.delete_object("volumebackups", "volume_x/1/a-00001") is True
    # No override: the endpoint the service's auth finds, with the user's account.
    conf = make_conf(tmp_path, service_user={"endpoint": url + "/v1/AUTH_service"})
    objectstore.ObjectStoreAPI.for_project(conf, ctxt).put_container("from-catalog")
    assert Recorder.seen[-1]["path"] == "/v1/AUTH_p1/from-catalog"
    base.reset()


def test_objectstore_without_endpoint_or_reachable_server(tmp_path: pathlib.Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = make_conf(tmp_path, swift={"endpoint_override": "http://127.0.0.1:%d/v1" % port})
    store = objectstore.ObjectStoreAPI.for_project(conf, context.admin_context(), "p")
    with pytest.raises(exception.ObjectStoreError) as caught:
        store.put_container("c")
    assert caught.value.kwargs["status"] is None
    base.reset()

"""compute.clients.image against the real image API: the in-process image
service (tests.fixtures.image) behind a real HTTP server on a free local port,
with a stand-in for keystonemiddleware that maps tokens to projects."""
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

from common import context
from common.clients import base
from common.wsgi import server as wsgi_server
from compute import clients
from compute import exception
from compute.clients import image as glance
from tests.fixtures import image as fx

SERVICE_TOKEN = "svc-token"


class TokenGate:
    """Stands in for auth_token: a known token becomes the fake auth's X-Test-* headers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: dict[str, str] = {SERVICE_TOKEN: "service"}
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                          "type": environ.get("CONTENT_TYPE"),
                          "length": environ.get("CONTENT_LENGTH"),
                          "token": environ.get("HTTP_X_AUTH_TOKEN"),
                          "service_token": environ.get("HTTP_X_SERVICE_TOKEN")})
        for key in ("HTTP_X_TEST_PROJECT", "HTTP_X_TEST_ROLES", "HTTP_X_TEST_USER"):
            environ.pop(key, None)
        project = self.tokens.get(environ.get("HTTP_X_AUTH_TOKEN", ""))
        if project is not None:
            environ["HTTP_X_TEST_PROJECT"] = project
        return self.app(environ, start_response)


class Env:
    def __init__(self, tmp: pathlib.Path) -> None:
        self.service = fx.ImageService(fx.make_conf(str(tmp / "image")))
        self.gate = TokenGate(self.service.pipeline)
        self.http = wsgi_server.Server(self.gate, "127.0.0.1", 0, threads=4)
        self.http.start()
        self.conf = make_conf(tmp, "http://127.0.0.1:%d" % self.http.port)

    def stop(self) -> None:
        self.http.stop()
        self.service.stop()
        base.reset()

    def user(self, project: str | None = None) -> context.RequestContext:
        token = "user-" + uuid.uuid4().hex
        self.gate.tokens[token] = project or uuid.uuid4().hex
        return context.RequestContext(auth_token=token, user_id="u",
                                      project_id=self.gate.tokens[token])


def make_conf(tmp: pathlib.Path, endpoint: str) -> cfg.ConfigOpts:
    path = tmp / "compute.conf"
    path.write_text("[glance]\nauth_type = admin_token\ntoken = %s\nendpoint = %s\n"
                    % (SERVICE_TOKEN, endpoint))
    base.reset()
    conf = cfg.ConfigOpts()
    clients.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    return conf


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    pytest.importorskip("image.api.controllers.image_data")
    environment = Env(tmp_path_factory.mktemp("image"))
    try:
        yield environment
    finally:
        environment.stop()


def _payload(tmp_path: pathlib.Path, size: int = 3 * 1024 * 1024 + 17) -> pathlib.Path:
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(size))
    return path


def test_snapshot_create_upload_download(env: Env, tmp_path: pathlib.Path) -> None:
    ctxt = env.user()
    instance = str(uuid.uuid4())
    queued = glance.create_image(env.conf, ctxt, "snap-1", instance_uuid=instance,
                                 image_type="snapshot", min_ram=512, base_image_ref=None,
                                 visibility="private", status="ignored", hw_qemu_guest_agent=True)
    assert queued["status"] == "queued" and queued["name"] == "snap-1"
    assert (queued["instance_uuid"], queued["image_type"], queued["min_ram"]) == (
        instance, "snapshot", 512)
    assert queued["hw_qemu_guest_agent"] == "true"
    assert "base_image_ref" not in queued
    source = _payload(tmp_path)
    data = source.read_bytes()
    active = glance.upload(env.conf, ctxt, queued["id"], str(source), disk_format="raw",
                           container_format="bare")
    assert active["status"] == "active" and active["size"] == len(data)
    assert active["checksum"] == hashlib.md5(data).hexdigest()
    assert (active["disk_format"], active["container_format"]) == ("raw", "bare")
    put = [s for s in env.gate.seen if s["method"] == "PUT"][-1]
    assert put["type"] == "application/octet-stream" and put["length"] == str(len(data))
    assert (put["token"], put["service_token"]) == (ctxt.auth_token, SERVICE_TOKEN)
    dest = tmp_path / "cache" / "base"
    dest.parent.mkdir()
    got = glance.download(env.conf, ctxt, queued["id"], str(dest))
    assert got["id"] == queued["id"]
    assert dest.read_bytes() == data
    assert os.listdir(dest.parent) == ["base"]  # no temporary file left behind


def test_download_refuses_data_that_does_not_match(env: Env, tmp_path: pathlib.Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ctxt = env.user()
    img = glance.create_image(env.conf, ctxt, "img", disk_format="raw", container_format="bare")
    glance.upload(env.conf, ctxt, img["id"], str(_payload(tmp_path, 100_000)))
    real = glance.get_image

    for key, value in (("checksum", "0" * 32), ("os_hash_value", "0" * 128), ("size", 5)):
        def lying(conf: Any, c: Any, image_id: str, key: str = key,
                  value: Any = value) -> dict[str, Any]:
            return dict(real(conf, c, image_id), **{key: value})
        monkeypatch.setattr(glance, "get_image", lying)
        dest = tmp_path / "out" / key
        dest.parent.mkdir(exist_ok=True)
        with pytest.raises(exception.ImageDownloadFailed):
            glance.download(env.conf, ctxt, img["id"], str(dest))
        assert not dest.exists()
        assert os.listdir(dest.parent) == []


def test_missing_foreign_and_queued_images(env: Env, tmp_path: pathlib.Path) -> None:
    ctxt = env.user()
    missing = str(uuid.uuid4())
    with pytest.raises(exception.ImageNotFound) as caught:
        glance.get_image(env.conf, ctxt, missing)
    assert caught.value.code == 404 and missing in caught.value.message
    # What the server create path raises instead: a 400, still an ImageNotFound.
    boot = exception.RequestedImageNotFound(image_id=missing)
    assert isinstance(boot, exception.ImageNotFound) and boot.code == 400
    private = glance.create_image(env.conf, env.user(), "theirs", visibility="private")
    with pytest.raises(exception.ImageNotFound):
        glance.get_image(env.conf, ctxt, private["id"])
    queued = glance.create_image(env.conf, ctxt, "empty", disk_format="raw",
                                 container_format="bare")
    with pytest.raises(exception.ImageNotActive):
        glance.download(env.conf, ctxt, queued["id"], str(tmp_path / "x"))
    assert os.listdir(tmp_path) == []
    with pytest.raises(exception.ImageBadRequest) as bad:
        glance.create_image(env.conf, ctxt, "bad", disk_format="floppy")
    assert bad.value.code == 400


def test_property_updates_and_delete(env: Env, tmp_path: pathlib.Path) -> None:
    ctxt = env.user()
    img = glance.create_image(env.conf, ctxt, "props", os_distro="debian", kept="1",
                              disk_format="raw", container_format="bare")
    updated = glance.update_image_properties(env.conf, ctxt, img["id"], {
        "os_distro": "cirros", "new/key": "x~y", "kept": None, "min_disk": 2},
        remove=["absent"])
    assert (updated["os_distro"], updated["new/key"], updated["min_disk"]) == (
        "cirros", "x~y", 2)
    assert "kept" not in updated
    same = glance.update_image_properties(env.conf, ctxt, img["id"], {}, remove=["absent"])
    assert same["os_distro"] == "cirros"
    glance.upload(env.conf, ctxt, img["id"], str(_payload(tmp_path, 10)))
    with pytest.raises(exception.ImageConflict) as twice:
        glance.upload(env.conf, ctxt, img["id"], str(_payload(tmp_path, 10)))
    assert twice.value.code == 409
    glance.delete_image(env.conf, ctxt, img["id"])
    with pytest.raises(exception.ImageNotFound):
        glance.get_image(env.conf, ctxt, img["id"])
    with pytest.raises(exception.ImageNotFound):
        glance.delete_image(env.conf, ctxt, img["id"])


def test_list_images_by_property_across_pages(env: Env) -> None:
    ctxt = env.user()
    server = str(uuid.uuid4())
    made = {glance.create_image(env.conf, ctxt, "backup-%d" % i, instance_uuid=server,
                                image_type="backup", backup_type="daily")["id"]
            for i in range(3)}
    glance.create_image(env.conf, ctxt, "other", instance_uuid=server, image_type="snapshot")
    found = glance.list_images(env.conf, ctxt, {"instance_uuid": server,
                                                "image_type": "backup", "limit": 2})
    assert {i["id"] for i in found} == made
    pages = [s for s in env.gate.seen if s["method"] == "GET" and s["path"] == "/v2/images"]
    assert len(pages) >= 2


def test_service_credentials_without_context(env: Env) -> None:
    img = glance.create_image(env.conf, None, "by-service", visibility="private")
    assert img["owner"] == "service"
    assert env.gate.seen[-1]["token"] == SERVICE_TOKEN
    glance.delete_image(env.conf, None, img["id"])


def test_unreachable_service_is_503(tmp_path: pathlib.Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = make_conf(tmp_path, "http://127.0.0.1:%d" % port)
    try:
        with pytest.raises(exception.ImageServiceUnavailable) as caught:
            glance.get_image(conf, None, "x")
        assert caught.value.code == 503
    finally:
        base.reset()


def test_get_image_cached_asks_once_per_caller_and_image(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    asked: list[tuple[str, str]] = []
    records = {"img-1": {"id": "img-1", "status": "active", "tags": ["a"]},
               "img-2": {"id": "img-2", "status": "queued"}}

    def get_image(conf: Any, ctxt: Any, image_id: str) -> dict[str, Any]:
        asked.append((ctxt.auth_token, image_id))
        return dict(records[image_id])
    monkeypatch.setattr(glance, "get_image", get_image)
    now = [1000.0]
    monkeypatch.setattr(clients.time, "monotonic", lambda: now[0])
    glance.clear_image_cache()
    alice = SimpleNamespace(auth_token="tok-a", project_id="p1")
    bob = SimpleNamespace(auth_token="tok-b", project_id="p2")
    first = glance.get_image_cached(None, alice, "img-1")
    first["tags"].append("changed by the caller")
    again = glance.get_image_cached(None, alice, "img-1")
    assert again == {"id": "img-1", "status": "active", "tags": ["a"]}
    glance.get_image_cached(None, bob, "img-1")  # another caller asks itself
    glance.get_image_cached(None, alice, "img-2")
    glance.get_image_cached(None, alice, "img-2")  # not active: never kept
    assert asked == [("tok-a", "img-1"), ("tok-b", "img-1"), ("tok-a", "img-2"),
                     ("tok-a", "img-2")]
    now[0] += glance.CACHE_SECONDS
    records["img-1"]["status"] = "deactivated"
    assert glance.get_image_cached(None, alice, "img-1")["status"] == "deactivated"
    assert asked[-1] == ("tok-a", "img-1")
    glance.clear_image_cache()
